package lb.dataplane.io;

import jnr.ffi.Pointer;
import jnr.ffi.annotations.IgnoreError;
import jnr.ffi.annotations.SaveError;

/**
 * The libc calls the packet I/O layer needs, bound with jnr-ffi. Load it through {@link Native#LIBC}.
 * <p>
 * Every call whose failure is reported to a person saves errno ({@link SaveError}); read it with
 * {@link Native#errno()} right after the call on the same thread. The hot TX kick
 * {@link #sendtoNoErrno} does not, to keep the downcall cheap.
 * <p>
 * jnr-ffi 2.3.4 corrupts the sixth argument of a function whose six arguments are all primitives
 * (jnr-ffi issue 181) unless {@code -Djnr.ffi.x86asm.enabled=false} is set, which a {@code java -jar}
 * user will not have: every six-argument call here therefore has at least one {@link Pointer}
 * argument, which takes it off the affected path.
 */
public interface LibC
{
    /** {@code int socket(int domain, int type, int protocol)}. */
    @SaveError
    int socket(int domain, int type, int protocol);

    /** {@code int bind(int fd, const struct sockaddr *addr, socklen_t len)}. */
    @SaveError
    int bind(int fd, Pointer address, int addressLength);

    /** {@code int setsockopt(int fd, int level, int name, const void *value, socklen_t len)}. */
    @SaveError
    int setsockopt(int fd, int level, int name, Pointer value, int valueLength);

    /** {@code int getsockopt(int fd, int level, int name, void *value, socklen_t *len)}. */
    @SaveError
    int getsockopt(int fd, int level, int name, Pointer value, Pointer valueLength);

    /** {@code int ioctl(int fd, unsigned long request, void *arg)}: only pointer-argument requests. */
    @SaveError
    int ioctl(int fd, long request, Pointer argument);

    /**
     * {@code void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t offset)}, returning
     * the address as a {@code long} ({@code -1} is {@code MAP_FAILED}). The first argument is a
     * {@link Pointer} (pass {@code null}) to avoid the six-primitive-argument bug.
     */
    @SaveError
    long mmap(Pointer address, long length, int protection, int flags, int fd, long offset);

    /** {@code int madvise(void *addr, size_t len, int advice)}. */
    @SaveError
    int madvise(long address, long length, int advice);

    /** {@code int munmap(void *addr, size_t len)}. */
    @SaveError
    int munmap(long address, long length);

    /** {@code int poll(struct pollfd *fds, nfds_t n, int timeoutMs)}. */
    @SaveError
    int poll(Pointer pollFds, long count, int timeoutMs);

    /** {@code ssize_t sendto(...)}, saving errno: for one-off frames from the control thread. */
    @SaveError
    long sendto(int fd, Pointer buffer, long length, int flags, Pointer address, int addressLength);

    /**
     * {@code ssize_t sendto(...)} without saving errno: the TX ring kick,
     * {@code sendto(fd, NULL, 0, MSG_DONTWAIT, NULL, 0)}. Mapped to the {@code sendto} symbol.
     */
    @IgnoreError
    long sendtoNoErrno(int fd, Pointer buffer, long length, int flags, Pointer address, int addressLength);

    /** {@code int close(int fd)}. */
    @SaveError
    int close(int fd);

    /** {@code int setns(int fd, int nstype)}: switches the calling thread's namespace. */
    @SaveError
    int setns(int fd, int namespaceType);

    /** {@code int open(const char *path, int flags)}: no {@code O_CREAT}, so no mode argument. */
    @SaveError
    int open(String path, int flags);

    /** {@code char *strerror(int errnum)}: the text of an errno value. */
    String strerror(int errno);

    /** {@code int sched_setaffinity(pid_t pid, size_t size, const cpu_set_t *mask)}; pid 0: this thread. */
    @SaveError
    int sched_setaffinity(int pid, long maskSize, Pointer mask);

    /** {@code int sched_getaffinity(pid_t pid, size_t size, cpu_set_t *mask)}; pid 0: this thread. */
    @SaveError
    int sched_getaffinity(int pid, long maskSize, Pointer mask);
}
