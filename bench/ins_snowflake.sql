INSERT INTO idgen_bench.ins_snowflake (n) VALUES (1);
