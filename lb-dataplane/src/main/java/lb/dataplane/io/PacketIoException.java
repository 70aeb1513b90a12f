package lb.dataplane.io;

/**
 * A packet I/O setup failure with a one-line message a person can act on, such as
 * {@code interface 'srv9': No such device}, and the errno behind it (0 when the check was our own).
 */
public final class PacketIoException extends RuntimeException
{
    private static final long serialVersionUID = 1L;

    private final int errno;

    /**
     * @param message one line naming the interface or resource and what went wrong.
     * @param errno   the errno behind it, or 0.
     */
    public PacketIoException(final String message, final int errno)
    {
        super(message);
        this.errno = errno;
    }

    /**
     * @return the errno behind the failure, or 0 when no system call failed.
     */
    public int errno()
    {
        return errno;
    }

    static PacketIoException ofErrno(final String what, final int errno)
    {
        return new PacketIoException(what + ": " + Native.strerror(errno), errno);
    }
}
