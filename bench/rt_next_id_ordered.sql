SELECT next_id('idgen_bench_o');
