# Sums what bench/run.sh's per-transaction counts need over the callgrind
# profiles given as arguments (one per backend, written when it exits):
#
#   awk -f bench/callgrind.awk cg.123 cg.124 ...
#
# prints one line "name value" per figure:
#   files        profiles with a nonzero total (backends that ran PostgresMain)
#   ir           instructions (the profiles' "totals:")
#   heavy_locks  calls of LockAcquireExtended (heavyweight locks, fast-path
#                ones included)
#   lwlocks      calls of LWLockAcquire, LWLockConditionalAcquire and
#                LWLockAcquireOrWait
#   wal_records  calls of XLogInsert
#   syscalls     calls of libc's system call wrappers (the list in SYSCALLS)
#                from outside libc
#   idgen_ir     instructions spent in idgen.so, inclusive: the cost of the
#                calls into it from other objects (postgres calls its
#                functions, hooks and callbacks)
#
# The format (valgrind's callgrind format): "ob=", "fn=", "cob=", "cfn="
# name an object or function, compressed as "(id) name" the first time and
# "(id)" after; "calls=N ..." is followed by the inclusive cost of those
# calls; "cob=" applies to the next "cfn=" only.
BEGIN {
    split("LockAcquireExtended", a, " "); for (i in a) KIND[a[i]] = "heavy_locks"
    split("LWLockAcquire LWLockConditionalAcquire LWLockAcquireOrWait", a, " "); for (i in a) KIND[a[i]] = "lwlocks"
    KIND["XLogInsert"] = "wal_records"
    # vDSO calls (clock_gettime, gettimeofday) are no system calls
    SYSCALLS = "read write pread pread64 pwrite pwrite64 preadv pwritev recv recvfrom send sendto " \
        "epoll_wait epoll_pwait epoll_ctl poll select fsync fdatasync sync_file_range open open64 openat close " \
        "lseek lseek64 kill getpid getppid fallocate posix_fallocate ftruncate unlink fstat stat lstat " \
        "fstatat newfstatat statx madvise mmap munmap brk sigprocmask setitimer futex semop"
    split(SYSCALLS, a, " "); for (i in a) KIND[a[i]] = "syscalls"
    split("files ir heavy_locks lwlocks wal_records syscalls idgen_ir", ORDER, " ")
    for (i in ORDER) S[ORDER[i]] = 0
}

FNR == 1 { ob = ""; cob = ""; callee = ""; pending = 0 }

# name(FIELD, TABLE): the name behind a compressed "(id) name" or "(id)"
function name(s, tab,    id, rest) {
    if (s !~ /^\(/) return s
    id = substr(s, 2, index(s, ")") - 2)
    rest = substr(s, index(s, ")") + 2)
    if (rest != "") tab[id] = rest
    return tab[id]
}
function clean(n) { sub(/@.*/, "", n); sub(/'[0-9]+$/, "", n); return n }

pending { # the inclusive cost line of the previous calls= line
    pending = 0
    if (into_idgen) S["idgen_ir"] += $NF
    next
}
/^ob=/ { ob = name(substr($0, 4), OBJ); next }
/^fn=/ { name(substr($0, 4), FN); cob = ""; next }
/^cob=/ { cob = name(substr($0, 5), OBJ); next }
/^cfn=/ { callee = clean(name(substr($0, 5), FN)); next }
/^calls=/ {
    n = substr($1, 7) + 0
    target = (cob != "" ? cob : ob)
    k = KIND[callee]
    if (k == "syscalls") { if (ob !~ /\/libc[.-]/) S[k] += n }
    else if (k != "") S[k] += n
    into_idgen = (target ~ /\/idgen\.so$/ && ob !~ /\/idgen\.so$/)
    pending = 1
    cob = ""
    next
}
/^totals:/ { if ($2 > 0) { S["files"]++; S["ir"] += $2 } }

END { for (i = 1; i <= 7; i++) print ORDER[i], S[ORDER[i]] }
