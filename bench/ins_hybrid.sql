INSERT INTO idgen_bench.ins_hybrid (n) VALUES (1);
