INSERT INTO idgen_bench.ins_nextval1000 (n) VALUES (1);
