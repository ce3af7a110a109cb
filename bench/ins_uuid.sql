INSERT INTO idgen_bench.ins_uuid (n) VALUES (1);
