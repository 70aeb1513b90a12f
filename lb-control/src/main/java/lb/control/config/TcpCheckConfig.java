package lb.control.config;

import java.time.Duration;
import java.util.Objects;

/**
 * A service's TCP health check (HAProxy's {@code check} with {@code port}, {@code inter},
 * {@code timeout check}, {@code rise} and {@code fall}): lb sends a half-open SYN to each backend's
 * port; a SYN-ACK passes, an RST or no answer within the timeout fails. A backend fails after
 * {@code fall} failures in a row and passes again after {@code rise} passes in a row; at start it
 * counts as passing until its first check says otherwise (HAProxy's default {@code init-state}).
 *
 * @param port     the port checked, or {@link #BACKEND_PORT} for each backend's own.
 * @param interval from one check of a backend to the next.
 * @param timeout  how long a check waits for the SYN-ACK or RST.
 * @param rise     passes in a row that bring a failed backend back.
 * @param fall     failures in a row that take a backend out.
 */
public record TcpCheckConfig(int port, Duration interval, Duration timeout, int rise, int fall)
{
    /** {@link #port()}: check the port the backend's flows go to. */
    public static final int BACKEND_PORT = 0;
    public static final String DEFAULT_INTERVAL = "1s";
    public static final String DEFAULT_TIMEOUT = "1s";
    public static final String DEFAULT_RISE = "2";
    public static final String DEFAULT_FALL = "2";
    /** The most passes or failures {@link #rise()} and {@link #fall()} may ask for. */
    public static final int MAX_COUNT = 100;

    /** Rejects nulls. */
    public TcpCheckConfig
    {
        Objects.requireNonNull(interval, "interval");
        Objects.requireNonNull(timeout, "timeout");
    }

    /** The defaults: each backend's port, every 1 s, 1 s timeout, rise 2, fall 2. */
    public static TcpCheckConfig defaults()
    {
        return new TcpCheckConfig(BACKEND_PORT, Values.duration(DEFAULT_INTERVAL), Values.duration(DEFAULT_TIMEOUT),
            Values.checkCount(DEFAULT_RISE), Values.checkCount(DEFAULT_FALL));
    }

    /** @return the port checked on a backend whose flows go to {@code backendPort}. */
    public int portFor(final int backendPort)
    {
        return port == BACKEND_PORT ? backendPort : port;
    }

    /** @return the settings as {@code lbctl add service} and the log write them. */
    public String describe()
    {
        return "check tcp port " + (port == BACKEND_PORT ? "backend" : Integer.toString(port)) +
            " interval " + Values.formatDuration(interval) + " timeout " + Values.formatDuration(timeout) +
            " rise " + rise + " fall " + fall;
    }
}
