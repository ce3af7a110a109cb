# Turns bench/run.sh's raw.tsv into the results tables (markdown, on
# stdout), the targets table (outdir/targets.md) and the chart's data
# (outdir/*.dat, outdir/vars.gp).  Plain POSIX awk (mawk has no asort).
#
# Medians are over rounds; a ratio is the median over rounds of the ratio
# within each round, so that both sides of it ran minutes apart at most.

BEGIN {
    FS = "\t"
    nrt = split("select1 select1_aa nextval1 nextval1000 uuid next_id next_id_ordered next_id_range snowflake hybrid pgedge uuidv7", RTW, " ")
    ncost = split("nextval1 nextval1000 uuid next_id next_id_ordered next_id_range snowflake hybrid pgedge uuidv7", COSTW, " ")
    nins = split("bigserial bigserial_aa nextval1000 uuid next_id next_id_chunks snowflake hybrid pgedge uuidv7", INSW, " ")
    L["select1"] = "SELECT 1"
    L["select1_aa"] = "SELECT 1 again (A/A: noise)"
    L["bigserial_aa"] = "bigserial again (A/A: noise)"
    ntx = split("rt_select1 rt_floor rt_next_id rt_hybrid rt_snowflake rt_nextval1 rt_nextval1000 rt_uuid rt_pgedge rt_uuidv7 ins_bigserial ins_next_id", TXW, " ")
    TL["rt_select1"] = "`SELECT 1`"
    TL["rt_floor"] = "floor: `SELECT idgen_bench.floor('t')`"
    TL["rt_next_id"] = "`SELECT next_id('t')`"
    TL["rt_hybrid"] = "`SELECT hybrid_id('h')`"
    TL["rt_snowflake"] = "`SELECT snowflake_id()`"
    TL["rt_nextval1"] = "`SELECT nextval('s')`, CACHE 1"
    TL["rt_nextval1000"] = "`SELECT nextval('s')`, CACHE 1000"
    TL["rt_uuid"] = "`SELECT gen_random_uuid()`"
    TL["rt_pgedge"] = "`SELECT snowflake.nextval()` (pgEdge)"
    TL["rt_uuidv7"] = "`SELECT uuid_generate_v7()` (pg_uuidv7)"
    TL["ins_bigserial"] = "INSERT, bigserial"
    TL["ins_next_id"] = "INSERT, `DEFAULT next_id('t')`"
    # the fields of a tx record after W C N, as bench/callgrind.awk and
    # bench/run.sh's cg_run print them
    nf = split("backends ir heavy_locks lwlocks wal_records syscalls idgen_ir wal_bytes xids fsyncs", TXF, " ")
    L["nextval1"] = "nextval CACHE 1"
    L["nextval1000"] = "nextval CACHE 1000"
    L["uuid"] = "gen_random_uuid()"
    L["next_id"] = "next_id(t)"
    L["next_id_range"] = "next_id_range(t, 100)"
    L["next_id_chunks"] = "next_id(t), locality => false"
    L["next_id_ordered"] = "next_id(o), ordered => true"
    L["snowflake"] = "snowflake_id()"
    L["hybrid"] = "hybrid_id(h)"
    L["pgedge"] = "pgEdge snowflake.nextval()"
    L["uuidv7"] = "pg_uuidv7 uuid_generate_v7()"
    L["bigserial"] = "bigserial"
    R = 0
}

$1 == "meta" { M[$2] = $3 }
$1 == "avail" { A[$2] = $3; NOTE[$2] = $4 }
$1 == "cost" {
    # gross ns of $5 calls, minus $5 rows of the bare series, per ID
    net = $4 / $5 - $6
    if ($2 == "next_id_range") net /= 100
    COST[$2, $3] = net
    BASE[$3] = $6
    if ($3 > R) R = $3
}
$1 == "rt" { TPS[$2, $3, $4] = $5; if ($4 > R) R = $4 }
# ins PHASE CLIENTS WORKLOAD ROUND TPS TRANSACTIONS WAL INDEX_BYTES ROWS
# LEAF_DENSITY: one INSERT run; its phase and client count make the key pc
$1 == "ins" {
    pc = $2 ":" $3
    if (!(pc in PCPH)) { PCL[++npc] = pc; PCPH[pc] = $2; PCC[pc] = $3 }
    ITPS[pc, $4, $5] = $6
    if ($7 > 0) IWAL[pc, $4, $5] = $8 / $7
    if ($10 > 0) IBPR[pc, $4, $5] = $9 / $10
    IDEN[pc, $4, $5] = $11
    HASINS[$2] = 1
    if ($5 > R) R = $5
}
# wm ROUND WRITER_TPS IDS_P50 IDS_P99 MS_P50 MS_P99 POLLS: the watermark phase
$1 == "wm" { WM[$2] = $3 " " $4 " " $5 " " $6 " " $7 " " $8; if ($2 > NWM) NWM = $2 }
$1 == "instr_raw" { IRAW[$2] = $3; HASINSTR = 1 }
# tx W CLIENTS N FIELDS...: one callgrind run of N transactions per client;
# of repeated runs the one with the fewest instructions counts (what else
# happens in a server, a cache rebuilt, a hash table grown, only adds)
$1 == "tx" {
    if (!(($2, $3, $4, "ir") in TXR) || $6 + 0 < TXR[$2, $3, $4, "ir"] + 0)
        for (i = 1; i <= nf; i++) TXR[$2, $3, $4, TXF[i]] = $(i + 4)
    HASTX = 1
}

function num(v) { return v != "" && v != "NaN" && v ~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/ }

# median of the numbers in the space-separated list s ("" if none)
function median(s,    a, b, n, m, i, j, t) {
    n = split(s, a, " ")
    m = 0
    for (i = 1; i <= n; i++)
        if (num(a[i])) b[++m] = a[i] + 0
    if (m == 0) return ""
    for (i = 2; i <= m; i++) {
        t = b[i]
        for (j = i - 1; j >= 1 && b[j] > t; j--) b[j + 1] = b[j]
        b[j + 1] = t
    }
    return (m % 2) ? b[(m + 1) / 2] : (b[m / 2] + b[m / 2 + 1]) / 2
}

# per-round lists of an array indexed [k, r] or [k1, k2, r]
function rounds2(arr, k,    r, s) { s = ""; for (r = 1; r <= R; r++) if ((k, r) in arr) s = s " " arr[k, r]; return s }
function rounds3(arr, k1, k2,    r, s) { s = ""; for (r = 1; r <= R; r++) if ((k1, k2, r) in arr) s = s " " arr[k1, k2, r]; return s }
function ratios2(arr, a, b,    r, s) {
    s = ""
    for (r = 1; r <= R; r++)
        if (((a, r) in arr) && ((b, r) in arr) && num(arr[a, r]) && num(arr[b, r]) && arr[b, r] != 0)
            s = s " " arr[a, r] / arr[b, r]
    return median(s)
}
function ratios3(arr, k, a, b,    r, s) {
    s = ""
    for (r = 1; r <= R; r++)
        if (((k, a, r) in arr) && ((k, b, r) in arr) && num(arr[k, a, r]) && num(arr[k, b, r]) && arr[k, b, r] != 0)
            s = s " " arr[k, a, r] / arr[k, b, r]
    return median(s)
}
# round-trip ratio at c clients: TPS[a, c, r] / TPS[b, c, r]
function rtratio(a, b, c,    r, s) {
    s = ""
    for (r = 1; r <= R; r++)
        if (((a, c, r) in TPS) && ((b, c, r) in TPS) && num(TPS[a, c, r]) && num(TPS[b, c, r]) && TPS[b, c, r] != 0)
            s = s " " TPS[a, c, r] / TPS[b, c, r]
    return median(s)
}

function f0(v) { return num(v) ? fm("%.0f", v) : "–" }
function f1(v) { return num(v) ? sprintf("%.1f", v) : "–" }
function f2(v) { return num(v) ? sprintf("%.2f", v) : "–" }
# per transaction: the difference of W's two runs at C clients, divided by
# C × (N2 - N1)
function tx(w, c, f,    a, b) {
    a = TXR[w, c, TXN1, f]; b = TXR[w, c, TXN2, f]
    if (!num(a) || !num(b)) return ""
    return (b - a) / (c * (TXN2 - TXN1))
}
function txd(w, v, c, f) { return (num(tx(w, c, f)) && num(tx(v, c, f))) ? tx(w, c, f) - tx(v, c, f) : "" }
function txr(w, v, c, f) { return (num(tx(w, c, f)) && num(tx(v, c, f)) && tx(v, c, f) != 0) ? tx(w, c, f) / tx(v, c, f) : "" }
# "x / y": a count at 1 client and at 8, with FMT digits
function both(w, f, fmt,    a, b) {
    a = tx(w, 1, f); b = tx(w, 8, f)
    return (num(a) ? fm(fmt, a) : "–") " / " (num(b) ? fm(fmt, b) : "–")
}
# sprintf(FMT, V) without the sign of a negative zero
function fm(fmt, v,    s) { s = sprintf(fmt, v); if (s ~ /^-0(\.0*)?$/) s = substr(s, 2); return s }
# lo–hi of the per-round ratios X[ka, r] / X[kb, r], for keys ka and kb
# without the round (the A/A spread)
function spread(X, ka, kb,    r, lo, hi, v) {
    lo = ""
    for (r = 1; r <= R; r++)
        if (((ka, r) in X) && ((kb, r) in X) && num(X[ka, r]) && num(X[kb, r]) && X[kb, r] != 0) {
            v = X[ka, r] / X[kb, r]
            if (lo == "" || v < lo) lo = v
            if (hi == "" || v > hi) hi = v
        }
    return lo == "" ? "" : sprintf("%.2f–%.2f", lo, hi)
}
# the A/A spread of round trips a / b at c clients, of INSERTs a / b at pc
function rtrange(a, b, c) { return spread(TPS, a SUBSEP c, b SUBSEP c) }
function insrange(pc, a, b) { return spread(ITPS, pc SUBSEP a, pc SUBSEP b) }
function mb(v) { return num(v) ? sprintf("%.1f MB", v / 1048576) : "–" }
function d0(v) { return v == "" ? "0" : v }
function na(w) { return "not available: " NOTE[w] }

# target LABEL VALUE OP LIMIT WHY: one row of the targets table; WHY says
# why there is no value
function target(label, v, op, limit, why, extra, fmt,    met) {
    if (!num(v)) { met = "n/a (" why ")"; v = "–" }
    else {
        met = (op == "<=" ? v <= limit : v >= limit) ? "**met**" : "**not met**"
        v = sprintf(fmt == "" ? "%.2f×" : fmt, v)
    }
    printf "| %s | %s%s | %s |\n", label, v, extra, met >> targets
}

END {
    # the targets: counted ones in targets-counts.md, wall-clock ones in
    # targets.md (bench/publish.sh puts them in README.md's two blocks)
    targets = outdir "/targets.md"
    printf "" > targets
    tcounts = outdir "/targets-counts.md"
    printf "" > tcounts
    nc = split(M["clients"], CL, " ")

    print "# idgen benchmark results"
    print ""
    printf "- date: %s; mode: %s; server: %s\n", M["date"], M["mode"], (M["target"] == "own" ? "throwaway cluster started by bench/run.sh" : "existing server (PG* variables)")
    printf "- command: `%s`\n", M["command"]
    printf "- machine: %s; %s\n", M["machine"], M["kernel"]
    printf "- %s\n", M["pg_version"]
    printf "- settings: %s\n", M["settings"]
    if (M["seconds_total"] != "" && M["mode"] == "counts")
        printf "- run time: %s s\n", M["seconds_total"]
    else if (M["seconds_total"] != "")
        printf "- run time: %s s in all (counts %s s, in-server cost %s s, round trip %s s, INSERT %s s and %s s, instructions %s s)\n",
            M["seconds_total"], d0(M["seconds_counts"]), d0(M["seconds_cost"]), d0(M["seconds_round_trip"]), d0(M["seconds_insert_small"]),
            d0(M["seconds_insert_large"]), d0(M["seconds_instructions"])
    if (M["mode"] != "counts") printf "- %s round(s), interleaved (each round starts with the next workload); medians over rounds, ratios = median of the per-round ratios\n", M["rounds"]
    print ""

    # --- counts per transaction ------------------------------------------
    split(M["tx_n"], TN, " "); TXN1 = TN[1]; TXN2 = TN[2]
    if (HASTX) {
        print "## Per transaction, counted"
        print ""
        printf "The whole server under valgrind's callgrind (%s; counting inside PostgresMain, i.e. the backends), `autovacuum = off`;\n", M["valgrind"]
        printf "`pgbench -n -M prepared -f bench/<workload>.sql -c C -j %s -t N` with N = %s and N = %s transactions per client,\n", M["jobs"], TXN1, TXN2
        printf "at C = 1 and C = 8 (interleaving) clients%s; a figure is the difference of the two lengths divided by\n",
            (M["tx_reps"] > 1 ? ", each run " M["tx_reps"] " times (the one with the fewest instructions counts)" : "")
        print "C × (N2 − N1), so that what connecting and disconnecting cost cancels out. Instructions and calls are summed over"
        print "the backends' profiles; WAL bytes from `pg_current_wal_lsn()`, XIDs from `pg_snapshot_xmax(pg_current_snapshot())`,"
        printf "fsyncs from %s, each read before and after a run. Counts do not depend on the machine's load; at 8\n", M["tx_fsync_source"]
        print "clients they include what waiting for each other costs (spinning, lock queues), which varies a little from run to run."
        print ""
        print "| workload | instructions, 1 client | − `SELECT 1` | instructions, 8 clients | − `SELECT 1` | in idgen.so, 1 / 8 clients |"
        print "|---|---:|---:|---:|---:|---:|"
        for (i = 1; i <= ntx; i++) {
            w = TXW[i]
            if (!num(tx(w, 1, "ir")) && !num(tx(w, 8, "ir"))) continue
            printf "| %s | %s | %s | %s | %s | %s |\n", TL[w], f0(tx(w, 1, "ir")),
                (w ~ /^rt_/ && w != "rt_select1" ? f0(txd(w, "rt_select1", 1, "ir")) : ""),
                f0(tx(w, 8, "ir")), (w ~ /^rt_/ && w != "rt_select1" ? f0(txd(w, "rt_select1", 8, "ir")) : ""),
                both(w, "idgen_ir", "%.0f")
        }
        print ""
        print "| workload | WAL bytes | WAL records | XIDs | WAL fsyncs | heavyweight locks | LWLocks | system calls |"
        print "|---|---:|---:|---:|---:|---:|---:|---:|"
        for (i = 1; i <= ntx; i++) {
            w = TXW[i]
            if (!num(tx(w, 1, "ir")) && !num(tx(w, 8, "ir"))) continue
            printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", TL[w], both(w, "wal_bytes", "%.0f"),
                both(w, "wal_records", "%.2f"), both(w, "xids", "%.2f"), both(w, "fsyncs", "%.3f"),
                both(w, "heavy_locks", "%.2f"), both(w, "lwlocks", "%.2f"), both(w, "syscalls", "%.2f")
        }
        print ""
        print "Each cell: at 1 client / at 8 clients. WAL fsyncs: all of the server's, as its statistics count them (group commit"
        print "shares one among clients); heavyweight locks: calls of `LockAcquireExtended` (fast-path ones included); LWLocks: calls"
        print "of `LWLockAcquire`, `LWLockConditionalAcquire` and `LWLockAcquireOrWait`; system calls: calls of libc's system call"
        print "wrappers (bench/callgrind.awk lists them; the vDSO's clock reads are none); in idgen.so: the instructions of every"
        print "call into idgen's library (its functions, hooks and callbacks), inclusive."
        print ""
        OWN1 = txd("rt_next_id", "rt_floor", 1, "idgen_ir"); OWN8 = txd("rt_next_id", "rt_floor", 8, "idgen_ir")
        print "**idgen's own cost over the floor.** The floor is `idgen_bench.floor(text)`: an extension C function that takes a"
        print "text argument and returns 0 (bench/floor.c, built by bench/run.sh and loaded from its working directory), declared"
        print "`VOLATILE STRICT` like `next_id(text)`, so that it is called at every execution, as `next_id` is. The floor minus"
        print "`SELECT 1` is what PostgreSQL charges for calling an extension's C function with a text argument:"
        printf "%s instructions at 1 client, %s at 8. idgen's own cost is what runs inside idgen.so (its functions, hooks and\n",
            f0(txd("rt_floor", "rt_select1", 1, "ir")), f0(txd("rt_floor", "rt_select1", 8, "ir"))
        print "callbacks, with what they call in PostgreSQL) per transaction, less what its hooks cost in the floor's transactions"
        printf "(%s instructions, paid by every transaction of the server): steady from run to run. The whole backend's\n", both("rt_floor", "idgen_ir", "%.0f")
        print "difference to the floor is shown beside it; it also holds what the server does now and then (statistics flushes,"
        print "invalidations), which moves it by tens of instructions between runs (bench/README.md):"
        print ""
        print "| over the floor | in idgen.so, 1 client | 8 clients | whole backend, 1 client | 8 clients |"
        print "|---|---:|---:|---:|---:|"
        printf "| `next_id('t')` | %s | %s | %s | %s |\n", f0(OWN1), f0(OWN8),
            f0(txd("rt_next_id", "rt_floor", 1, "ir")), f0(txd("rt_next_id", "rt_floor", 8, "ir"))
        if (num(tx("rt_hybrid", 1, "ir")))
            printf "| `hybrid_id('h')` | %s | %s | %s | %s |\n", f0(txd("rt_hybrid", "rt_floor", 1, "idgen_ir")),
                f0(txd("rt_hybrid", "rt_floor", 8, "idgen_ir")), f0(txd("rt_hybrid", "rt_floor", 1, "ir")),
                f0(txd("rt_hybrid", "rt_floor", 8, "ir"))
        print ""
        wall = targets; targets = tcounts
        printf "| target (counted) | measured | |\n|---|---:|---|\n" >> targets
        target("`next_id`'s own cost over the floor, 1 client ≤ 150 instructions", OWN1, "<=", 150, "not measured", "", "%.0f")
        target("`next_id`'s own cost over the floor, 8 clients ≤ 250 instructions", OWN8, "<=", 250, "not measured", "", "%.0f")
        target("INSERT with `DEFAULT next_id` ≤ 0.93 × bigserial's instructions, 1 client", txr("ins_next_id", "ins_bigserial", 1, "ir"), "<=", 0.93, "not measured")
        target("INSERT with `DEFAULT next_id` ≤ 0.93 × bigserial's instructions, 8 clients", txr("ins_next_id", "ins_bigserial", 8, "ir"), "<=", 0.93, "not measured")
        target("INSERT with `DEFAULT next_id`: WAL bytes ≤ bigserial's, 1 client", txr("ins_next_id", "ins_bigserial", 1, "wal_bytes"), "<=", 1.0, "not measured")
        target("INSERT with `DEFAULT next_id`: WAL fsyncs ≤ bigserial's, 1 client", txr("ins_next_id", "ins_bigserial", 1, "fsyncs"), "<=", 1.0, "no fsyncs counted", "", "%.4f×")
        close(tcounts); targets = wall
    } else if (M["tx_skipped"] != "")
        print "Counts per transaction: skipped (" M["tx_skipped"] ").\n"
    if (M["mode"] == "counts") {
        print "## Targets"
        print ""
        while ((getline l < tcounts) > 0) print l
        exit
    }

    # --- in-server cost --------------------------------------------------
    print "## In-server cost per call"
    print ""
    printf "`SELECT count(gen) FROM generate_series(1, %s)` timed inside the server (clock_timestamp around EXECUTE),\n", M["calls"]
    print "minus `SELECT count(*) FROM generate_series(1, N)` of the same round, divided by N; in each round the fastest of"
    print "several interleaved repetitions counts (noise only adds time), then the median over rounds."
    print "Instructions: valgrind callgrind on a single-user backend, the same queries at two N, differenced,"
    print "minus the bare series. next_id_range is per ID (per call / 100; N / 100 calls)."
    print ""
    print "| generator | ns per call | × nextval CACHE 1000 | instructions per call | × nextval CACHE 1000 |"
    print "|---|---:|---:|---:|---:|"
    bs = median(rounds_base())
    for (i = 1; i <= ncost; i++) {
        w = COSTW[i]
        INS[w] = ""
        if ((w in IRAW) && ("series" in IRAW)) {
            INS[w] = IRAW[w] - IRAW["series"]
            if (w == "next_id_range") INS[w] /= 100
        }
    }
    ib = IRAW["series"]
    printf "| bare generate_series row (subtracted) | %s | | %s | |\n", f1(bs), f0(ib)
    for (i = 1; i <= ncost; i++) {
        w = COSTW[i]
        if (A[w] != 1) {
            if (w in A) printf "| %s | %s | | | |\n", L[w], na(w)
            continue
        }
        ns = median(rounds2(COST, w))
        NS[w] = ns
        rat = ratios2(COST, w, "nextval1000")
        ins = INS[w]
        irat = (num(ins) && num(INS["nextval1000"]) && INS["nextval1000"] != 0) ? ins / INS["nextval1000"] : ""
        printf "| %s | %s | %s | %s | %s |\n", L[w] (w == "next_id_range" ? ", per ID" : ""), f1(ns), f2(rat), f0(ins), f2(irat)
        printf "\"%s\" %s %s\n", L[w] (w == "next_id_range" ? " per ID" : ""), (num(ns) ? ns : "NaN"), (num(ins) ? ins : "NaN") > (outdir "/cost.dat")
    }
    if (!HASINSTR) print "\nInstruction counts: " (M["instr_skipped"] != "" ? "skipped (" M["instr_skipped"] ")" : "not measured in this run") "."
    print ""

    # --- round trip --------------------------------------------------------
    print "## Round trip: pgbench"
    print ""
    printf "`pgbench -n -M prepared -f bench/rt_<workload>.sql -c C -j %s -T %s`, one call per transaction:\n", M["jobs"], M["duration"]
    print "median transactions per second (ratio to `SELECT 1` of the same round and client count). `SELECT 1 again` is the"
    print "same workload run a second time in each round: its ratio (median; lowest–highest over rounds) is what noise alone"
    print "makes of a ratio here."
    print ""
    line = "| workload |"; sep = "|---|"
    for (j = 1; j <= nc; j++) { line = line " " CL[j] " client" (CL[j] == 1 ? "" : "s") " |"; sep = sep "---:|" }
    print line; print sep
    hdr = "clients"
    for (i = 1; i <= nrt; i++) {
        w = RTW[i]
        if (!(w in A)) continue
        if (A[w] != 1) { printf "| %s | %s |\n", L[w], na(w); continue }
        line = "| " L[w] (w == "next_id_range" ? " (calls; ×100 IDs)" : "") " |"
        for (j = 1; j <= nc; j++) {
            c = CL[j]
            t = median(rounds3(TPS, w, c))
            MT[w, c] = t
            cell = f0(t)
            if (w == "select1_aa") cell = cell " (" f2(rtratio(w, "select1", c)) "; " rtrange(w, "select1", c) ")"
            else if (w != "select1") cell = cell " (" f2(rtratio(w, "select1", c)) ")"
            if (w == "next_id_range" && num(t)) cell = cell " = " sprintf("%.2fM IDs/s", t * 100 / 1e6)
            line = line " " cell " |"
        }
        print line
        if (w ~ /_aa$/) continue
        hdr = hdr " \"" L[w] (w == "next_id_range" ? " calls" : "") "\""
        RTCOL[++nrtc] = w
    }
    print hdr > (outdir "/rt.dat")
    for (j = 1; j <= nc; j++) {
        c = CL[j]; line = c
        for (k = 1; k <= nrtc; k++) line = line " " (num(MT[RTCOL[k], c]) ? MT[RTCOL[k], c] / 1000 : "NaN")
        print line > (outdir "/rt.dat")
    }
    print ""

    # --- INSERT ------------------------------------------------------------
    PHT["small"] = "index fits in shared_buffers, empty table before each run"
    PHT["large"] = sprintf("index ≫ shared_buffers (%s, %s rows loaded first)", M["big_shared_buffers"], M["big_rows"])
    if (npc > 0) {
        print "## Single-row INSERT"
        print ""
        printf "`pgbench -n -M prepared -f bench/ins_<generator>.sql -c <clients> -j %s -T %s`: `INSERT INTO idgen_bench.ins_<generator> (n) VALUES (1)`,\n", M["jobs"], M["insert_duration"]
        print "the table's primary key defaulting to the generator (uuid for the UUID ones, bigint otherwise); a CHECKPOINT before"
        print "each run, so that each pays its full-page writes; WAL from pg_current_wal_lsn() differences; the primary key's size"
        print "and `avg_leaf_density` (pgstattuple's `pgstatindex`) after each run. Medians over rounds; × = median of the"
        print "per-round ratios to bigserial; `bigserial again` is bigserial run a second time in each round (A/A: in parentheses"
        print "the lowest–highest of its per-round TPS ratios), what noise alone makes of a ratio here."
        print ""
    }
    for (p = 1; p <= npc; p++) {
        pc = PCL[p]
        printf "### %s client(s), %s\n\n", PCC[pc], PHT[PCPH[pc]]
        print "| generator | TPS | × bigserial | WAL bytes per row | × bigserial | index bytes per row | × bigserial | leaf density % |"
        print "|---|---:|---:|---:|---:|---:|---:|---:|"
        for (i = 1; i <= nins; i++) {
            w = INSW[i]
            if (!(w in A)) continue
            if (A[w] != 1) { printf "| %s | %s | | | | | | |\n", L[w], na(w); continue }
            IT[pc, w] = median(rounds3(ITPS, pc, w))
            IWM[pc, w] = median(rounds3(IWAL, pc, w))
            printf "| %s | %s | %s | %s | %s | %s | %s | %s |\n", L[w],
                f0(IT[pc, w]), f2(ratios3(ITPS, pc, w, "bigserial")) (w ~ /_aa$/ ? " (" insrange(pc, w, "bigserial") ")" : ""),
                f0(IWM[pc, w]), f2(ratios3(IWAL, pc, w, "bigserial")),
                f1(median(rounds3(IBPR, pc, w))), f2(ratios3(IBPR, pc, w, "bigserial")),
                f1(median(rounds3(IDEN, pc, w)))
        }
        print ""
    }
    # the chart shows 8 clients, or the last client count measured
    ic = ""
    for (p = 1; p <= npc; p++)
        if (PCPH[PCL[p]] == "small" && (ic == "" || ic != 8)) ic = PCC[PCL[p]]
    lc = M["large_clients"]
    if (npc > 0) {
        for (i = 1; i <= nins; i++) {
            w = INSW[i]
            if (A[w] != 1 || w ~ /_aa$/) continue
            printf "\"%s\" %s %s %s %s\n", L[w], (num(IT["small:" ic, w]) ? IT["small:" ic, w] : "NaN"),
                (num(IT["large:" lc, w]) ? IT["large:" lc, w] : "NaN"), (num(IWM["small:" ic, w]) ? IWM["small:" ic, w] : "NaN"),
                (num(IWM["large:" lc, w]) ? IWM["large:" lc, w] : "NaN") > (outdir "/ins.dat")
        }
    }
    if (M["big_skipped"] != "") print "Large-index INSERT phase skipped: " M["big_skipped"] ".\n"
    if (M["density_skipped"] != "") print "Leaf density not measured: " M["density_skipped"] ".\n"

    # --- watermark -----------------------------------------------------------
    if (NWM > 0) {
        print "## Watermark of an ordered tag"
        print ""
        printf "`pgbench -n -M prepared -f bench/wm_insert.sql -c %s -j %s -T %s` (single-row INSERT, key `DEFAULT next_id(o)` of an\n", M["large_clients"], M["jobs"], M["insert_duration"]
        print "ordered tag) with one reader running `bench/wm_poll.sql` alongside: `idgen.watermark(o)`, then, in the next statement, how"
        print "far the rows visible above it reach (IDs) and how long the oldest of them has waited since its INSERT (ms)."
        print ""
        print "| round | writers' TPS | lag, IDs: median | p99 | lag, ms: median | p99 | polls |"
        print "|---:|---:|---:|---:|---:|---:|---:|"
        for (r = 1; r <= NWM; r++) {
            if (!(r in WM)) continue
            split(WM[r], x, " ")
            printf "| %d | %s | %s | %s | %s | %s | %s |\n", r, f0(x[1]), f0(x[2]), f0(x[3]), f1(x[4]), f1(x[5]), x[6]
        }
        print ""
    }

    # --- targets -----------------------------------------------------------
    printf "| target (wall clock) | measured | |\n|---|---:|---|\n" >> targets
    target("in-server cost: `next_id` ≤ 0.3 × `nextval` CACHE 1000", ratios2(COST, "next_id", "nextval1000"), "<=", 0.3,
        "not measured", (num(INS["next_id"]) && num(INS["nextval1000"]) && INS["nextval1000"] ? sprintf(" (instructions %.2f×)", INS["next_id"] / INS["nextval1000"]) : ""))
    target("in-server cost: `snowflake_id` ≤ 1.0 × `nextval` CACHE 1000", ratios2(COST, "snowflake", "nextval1000"), "<=", 1.0,
        (A["snowflake"] == 1 ? "not measured" : "snowflake_id not available"),
        (num(INS["snowflake"]) && num(INS["nextval1000"]) && INS["nextval1000"] ? sprintf(" (instructions %.2f×)", INS["snowflake"] / INS["nextval1000"]) : ""))
    has8 = 0
    for (j = 1; j <= nc; j++) if (CL[j] == 8) has8 = 1
    why8 = has8 ? "not measured" : "8 clients not in CLIENTS"
    target("pgbench 8 clients: `next_id` ≥ 0.97 × `SELECT 1`", has8 ? rtratio("next_id", "select1", 8) : "", ">=", 0.97, why8, aa(8) counted("rt_next_id", "rt_select1"))
    has64 = 0
    for (j = 1; j <= nc; j++) if (CL[j] == 64) has64 = 1
    target("pgbench 64 clients: `next_id` ≥ 0.97 × `SELECT 1`", has64 ? rtratio("next_id", "select1", 64) : "", ">=", 0.97,
        has64 ? "not measured" : "64 clients not in CLIENTS", aa(64))
    target("pgbench 8 clients: `next_id` ≥ 1.4 × `nextval` CACHE 1", has8 ? rtratio("next_id", "nextval1", 8) : "", ">=", 1.4, why8,
        aa(8) counted("rt_next_id", "rt_nextval1"))
    target("pgbench 8 clients: `snowflake_id` ≥ 0.97 × `SELECT 1`", has8 ? rtratio("snowflake", "select1", 8) : "", ">=", 0.97,
        (A["snowflake"] == 1 ? why8 : "snowflake_id not available"), aa(8) counted("rt_snowflake", "rt_select1"))
    if (A["pgedge"] == 1)
        target("pgbench 8 clients: `snowflake_id` ≥ pgEdge snowflake", has8 ? rtratio("snowflake", "pgedge", 8) : "", ">=", 1.0,
            (A["snowflake"] == 1 ? why8 : "snowflake_id not available"), aa(8) counted("rt_snowflake", "rt_pgedge"))
    # flat from 1 to 64 clients: the lowest ratio to SELECT 1 over all client counts
    lo = ""
    for (j = 1; j <= nc; j++) { v = rtratio("next_id", "select1", CL[j]); if (num(v) && (lo == "" || v < lo)) lo = v }
    if (nc > 1)
        target("clients " CL[1] "→" CL[nc] " flat: `next_id` ≥ 0.97 × `SELECT 1` at every client count (lowest shown)", lo, ">=", 0.97, "not measured")
    # every client count of the small INSERT phase
    for (p = 1; p <= npc; p++) {
        pc = PCL[p]
        if (PCPH[pc] != "small") continue
        c = PCC[pc]
        if (c == 8 || c == 64)
            target("INSERT, " c " clients: `next_id` TPS ≥ bigserial", ratios3(ITPS, pc, "next_id", "bigserial"), ">=", 1.0, "not run",
                (insrange(pc, "bigserial_aa", "bigserial") != "" ? "; A/A " insrange(pc, "bigserial_aa", "bigserial") : "") \
                (c == 1 || c == 8 ? counted("ins_next_id", "ins_bigserial", c) : ""))
        target("INSERT, " c " clients: `next_id` index bytes per row ≤ 1.05 × bigserial", ratios3(IBPR, pc, "next_id", "bigserial"), "<=", 1.05, "not run")
        target("INSERT, " c " clients: `next_id` WAL per row ≤ bigserial", ratios3(IWAL, pc, "next_id", "bigserial"), "<=", 1.0, "not run")
    }
    if (npc == 0)
        target("INSERT: `next_id` TPS ≥ bigserial", "", ">=", 1.0, "INSERT phase not run")
    if (HASINS["large"]) {
        target("INSERT, index ≫ shared_buffers: `next_id` TPS ≥ bigserial", ratios3(ITPS, "large:" lc, "next_id", "bigserial"), ">=", 1.0, "not run")
        target("INSERT, index ≫ shared_buffers: `next_id` far ahead of UUIDv4 (≥ 1.5× TPS)", ratios3(ITPS, "large:" lc, "next_id", "uuid"), ">=", 1.5, "not run")
    }
    close(targets)

    print "## Targets"
    print ""
    if (HASTX) {
        while ((getline l < tcounts) > 0) print l
        print ""
    }
    while ((getline l < targets) > 0) print l
    print ""

    # --- compact summary (bench/run.sh --quick prints it) -----------------
    cf = outdir "/compact.md"
    cc = has8 ? 8 : CL[nc]
    printf "idgen vs. the usual generators (%s; pgbench -M prepared -c %s -j %s -T %s; machine %s)\n\n",
        M["date"], cc, M["jobs"], M["duration"], M["machine"] > cf
    printf "| generator | ns per call in the server | × nextval CACHE 1000 | pgbench TPS, %s clients | × SELECT 1 |\n", cc > cf
    printf "|---|---:|---:|---:|---:|\n" > cf
    for (i = 1; i <= nrt; i++) {
        w = RTW[i]
        if (!(w in A)) continue
        if (A[w] != 1) { printf "| %s | %s | | | |\n", L[w], na(w) > cf; continue }
        t = median(rounds3(TPS, w, cc))
        printf "| %s | %s | %s | %s | %s |\n", L[w] (w == "next_id_range" ? " (ns per ID)" : ""),
            (w ~ /^select1/ ? "" : f1(NS[w])), (w ~ /^select1/ ? "" : f2(ratios2(COST, w, "nextval1000"))),
            f0(t), (w == "select1" ? "" : f2(rtratio(w, "select1", cc))) > cf
    }
    printf "\n" > cf
    close(targets)
    while ((getline l < targets) > 0) if (l !~ /INSERT phase not run/) print l > cf
    close(targets)
    close(cf)

    # --- chart variables ---------------------------------------------------
    v = outdir "/vars.gp"
    printf "nrt = %d\n", nrtc > v
    printf "has_cost = %d\n", (ncost > 0 && A["nextval1"] == 1) > v
    printf "has_instr = %d\n", HASINSTR + 0 > v
    printf "has_ins = %d\n", (npc > 0) > v
    printf "has_large = %d\n", HASINS["large"] + 0 > v
    printf "duration = \"%s\"\n", M["duration"] > v
    printf "jobs = \"%s\"\n", M["jobs"] > v
    printf "ic = \"%s\"\n", ic > v
    printf "big_sb = \"%s\"\n", M["big_shared_buffers"] > v
    printf "calls = \"%s\"\n", M["calls"] > v
    pv = M["pg_version"]; sub(/ on .*/, "", pv)
    gsub(/"/, "", M["machine"])
    mach = M["machine"]; sub(/, load average.*/, "", mach)
    printf "subtitle = \"%s, %s, %s round(s), %s\"\n", pv, mach, M["rounds"], M["date"] > v
}

# aa(C): the A/A spread of SELECT 1 at C clients, for a wall-clock target
function aa(c,    s) { s = rtrange("select1_aa", "select1", c); return s == "" ? "" : "; A/A " s }
# counted(W, V[, C]): the wall-clock ratio W / V that the counts predict
# for a CPU-bound server: V's instructions over W's, at C (8) clients
function counted(w, v, c) {
    if (c == "") c = 8
    return num(txr(v, w, c, "ir")) ? sprintf("; counted %.2f×", txr(v, w, c, "ir")) : ""
}

function rounds_base(    r, s) { s = ""; for (r = 1; r <= R; r++) if (r in BASE) s = s " " BASE[r]; return s }
