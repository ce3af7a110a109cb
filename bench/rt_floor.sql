SELECT idgen_bench.floor('t');
