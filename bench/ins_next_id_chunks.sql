INSERT INTO idgen_bench.ins_next_id_chunks (n) VALUES (1);
