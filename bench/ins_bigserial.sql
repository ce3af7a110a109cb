INSERT INTO idgen_bench.ins_bigserial (n) VALUES (1);
