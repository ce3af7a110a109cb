SELECT hybrid_id('idgen_bench_h');
