INSERT INTO idgen_bench.ins_uuidv7 (n) VALUES (1);
