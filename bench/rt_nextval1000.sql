SELECT nextval('idgen_bench.seq_cache1000');
