SELECT next_id_range('idgen_bench', 100);
