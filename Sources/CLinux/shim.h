#ifndef FERRY_CLINUX_SHIM_H
#define FERRY_CLINUX_SHIM_H

#include <stdint.h>

/* Linux calls that glibc declares only under _GNU_SOURCE, which Swift's Glibc module is built without.
   All are in libc.so; the prototypes and flag values are the stable kernel and glibc ABI. */

/* syncfs(2): commit everything dirty on the file system holding fd, in one journal commit. */
extern int syncfs(int fd);

/* sync_file_range(2): start (or wait for) writeback of a byte range of one file. */
extern int sync_file_range(int fd, int64_t offset, int64_t nbytes, unsigned int flags);

/* fgetxattr(2), fsetxattr(2): extended attributes of an open file (<sys/xattr.h>, not in Swift's Glibc). */
#include <sys/types.h>
extern ssize_t fgetxattr(int fd, const char *name, void *value, size_t size);
extern int fsetxattr(int fd, const char *name, const void *value, size_t size, int flags);

/* renameat2(2) (glibc 2.28+, declared only under _GNU_SOURCE): a rename that can refuse to replace. */
extern int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags);
static const unsigned int FERRY_RENAME_NOREPLACE = 1;

/* futimens(2)'s "leave this time as it is" (a macro Swift does not import). */
static const long FERRY_UTIME_OMIT = (1l << 30) - 2l;

/* flock(2), under a name Swift does not confuse with glibc's struct flock. */
extern int flock(int fd, int operation);
static inline int ferry_flock(int fd, int operation) { return flock(fd, operation); }

/* Lowers the calling thread's scheduling priority (its nice value; Linux keeps one per thread), so that
   background work yields to transfers. Threads it starts inherit the value. */
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>
static inline int ferry_nice_this_thread(int nice) {
    return setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), nice);
}

/* A signal turned into a byte on a pipe (the self-pipe trick): whichever thread the kernel picks runs
   this handler, which only write(2)s, async-signal-safe; a thread of ours reads the pipe and does the
   real work. Nothing is lost between start-up and the reader being ready: the byte waits in the pipe. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
static int ferry_signal_pipe_fds[2] = {-1, -1};
static void ferry_signal_to_pipe(int number) {
    int saved = errno;
    unsigned char byte = (unsigned char)number;
    ssize_t ignored = write(ferry_signal_pipe_fds[1], &byte, 1);
    (void)ignored;
    errno = saved;
}
/* Sends `number` to the pipe from now on; returns the pipe's read end (one pipe for all), or -1. */
static inline int ferry_signal_pipe(int number) {
    if (ferry_signal_pipe_fds[0] < 0) {
        if (pipe(ferry_signal_pipe_fds) != 0) return -1;
        fcntl(ferry_signal_pipe_fds[0], F_SETFD, FD_CLOEXEC);
        fcntl(ferry_signal_pipe_fds[1], F_SETFD, FD_CLOEXEC);
    }
    struct sigaction action;
    memset(&action, 0, sizeof action);
    action.sa_handler = ferry_signal_to_pipe;
    sigemptyset(&action.sa_mask);
    action.sa_flags = SA_RESTART;
    if (sigaction(number, &action, NULL) != 0) return -1;
    return ferry_signal_pipe_fds[0];
}

/* lseek(2) whence for "the next byte of data at or after offset" (Linux 3.1+, glibc hides it). */
static const int FERRY_SEEK_DATA = 3;

static const unsigned int FERRY_SYNC_FILE_RANGE_WAIT_BEFORE = 1;
static const unsigned int FERRY_SYNC_FILE_RANGE_WRITE = 2;
static const unsigned int FERRY_SYNC_FILE_RANGE_WAIT_AFTER = 4;

/* mallopt(3) (<malloc.h>, not in Swift's Glibc): map large blocks on their own (returned to the system
   when freed) and cap the number of arenas, so a busy daemon's memory does not stay at its peak. */
#include <malloc.h>
static inline void ferry_limit_allocator_retention(int mmap_threshold, int arena_max) {
    (void)mallopt(M_MMAP_THRESHOLD, mmap_threshold);
    (void)mallopt(M_ARENA_MAX, arena_max);
}

#endif
