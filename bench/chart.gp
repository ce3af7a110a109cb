# The chart of a bench/run.sh run: gnuplot -e "dir='RESULTS'" bench/chart.gp
# reads RESULTS/{vars.gp,rt.dat,cost.dat,ins.dat} (written by report.awk)
# and writes RESULTS/chart.png.
load dir.'/vars.gp'

rows = has_ins ? 2 : 1
set terminal pngcairo size 1600, (rows == 2 ? 1150 : 620) font 'DejaVu Sans,11' noenhanced
set output dir.'/chart.png'
set multiplot layout rows, 2 title "idgen benchmark: ".subtitle."\n" font 'DejaVu Sans,14'

set grid ytics lc rgb '#dddddd'
set border 3
set tics nomirror
set key top left Left reverse samplen 2 spacing 1.1 font ',10' opaque
set style fill solid 0.85 border -1
# value labels: the value, or "≈0" for what rounds to nothing
lbl(v) = (v < 0.5 ? '≈0' : sprintf('%.0f', v))

# --- 1. round trip -----------------------------------------------------------
set title "Round trip: pgbench -M prepared -j ".jobs." -T ".duration.", one call per transaction"
set xlabel 'clients'
set ylabel 'transactions per second (thousands)'
set logscale x 2
set xrange [0.8:80]
set xtics (1, 2, 4, 8, 16, 32, 64)
set yrange [0:*]
set key outside right top vertical
plot for [i=2:nrt+1] dir.'/rt.dat' using 1:i with linespoints lw 2 pt (i % 7 + 1) ps 1.2 title columnhead(i)
unset logscale x
unset xrange
set xtics auto
set key inside top left
# headroom above the bars for their labels and the key
set offsets 0, 0, graph 0.25, 0

# --- 2. in-server cost -------------------------------------------------------
set title "In-server cost per call over a bare generate_series (".calls." calls)"
set xlabel ''
set ylabel 'ns per call, median (log scale)'
set xtics rotate by -25 left font ',10'
set logscale y 10
set offsets 0, 0, 0, 0
stats dir.'/cost.dat' using 2 nooutput
set yrange [1:(STATS_max > 10 ? STATS_max * 4 : 40)]
set boxwidth 0.6
clamp(v) = (v < 1 ? 1 : v)
# each bar is labelled with its ns and, where measured, its instructions
ilbl(v) = (v == v ? sprintf("\n%.0f instr", v) : '')
plot dir.'/cost.dat' using 0:(clamp($2)):xtic(1) with boxes lc rgb '#4477aa' \
         title (has_instr ? 'ns per call (bars); instructions per call (callgrind) below the ns' : 'ns per call'), \
     '' using 0:(clamp($2)):(lbl($2).' ns'.(has_instr ? ilbl($3) : '')) with labels offset 0, 1.3 font ',9' notitle
unset logscale y
set offsets 0, 0, graph 0.25, 0

if (has_ins) {
    # --- 3. INSERT throughput ----------------------------------------------
    set title "Single-row INSERT, ".ic." clients: primary key DEFAULT generator"
    set ylabel 'transactions per second'
    set boxwidth (has_large ? 0.38 : 0.6)
    set yrange [0:*]
    set key top right
    if (has_large) {
        plot dir.'/ins.dat' using ($0 - 0.2):2:xtic(1) with boxes lc rgb '#4477aa' title 'index fits in shared_buffers', \
             '' using ($0 - 0.2):2:(lbl($2)) with labels offset 0, 0.7 font ',9' notitle, \
             '' using ($0 + 0.2):3 with boxes lc rgb '#cc3311' title 'index >> shared_buffers ('.big_sb.')', \
             '' using ($0 + 0.2):3:(lbl($3)) with labels offset 0, 0.7 font ',9' notitle
    } else {
        plot dir.'/ins.dat' using 0:2:xtic(1) with boxes lc rgb '#4477aa' title 'index fits in shared_buffers', \
             '' using 0:2:(lbl($2)) with labels offset 0, 0.7 font ',9' notitle
    }

    # --- 4. WAL per row ----------------------------------------------------
    set title "WAL per inserted row (a checkpoint before each run)"
    set ylabel 'WAL bytes per row (log scale)'
    set logscale y 10
    set yrange [50:*]
    if (has_large) {
        plot dir.'/ins.dat' using ($0 - 0.2):4:xtic(1) with boxes lc rgb '#4477aa' title 'index fits in shared_buffers', \
             '' using ($0 - 0.2):4:(lbl($4)) with labels offset 0, 0.7 font ',9' notitle, \
             '' using ($0 + 0.2):5 with boxes lc rgb '#cc3311' title 'index >> shared_buffers ('.big_sb.')', \
             '' using ($0 + 0.2):5:(lbl($5)) with labels offset 0, 0.7 font ',9' notitle
    } else {
        plot dir.'/ins.dat' using 0:4:xtic(1) with boxes lc rgb '#4477aa' title 'index fits in shared_buffers', \
             '' using 0:4:(lbl($4)) with labels offset 0, 0.7 font ',9' notitle
    }
}
unset multiplot
