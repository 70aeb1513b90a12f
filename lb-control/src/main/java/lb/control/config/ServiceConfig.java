package lb.control.config;

import lb.dataplane.pipeline.ForwardingMode;

import java.util.List;
import java.util.Objects;

/**
 * One virtual service: clients reach {@code vip:port/protocol} and lb spreads their flows over
 * the backends with the named scheduler.
 *
 * @param name            a short unique name, used in logs, counters and the control socket.
 * @param vip             the virtual address as a big-endian number or IPv6 alias (see {@link IpAddresses}).
 * @param port            the service port, 1..65535.
 * @param protocol        TCP or UDP.
 * @param scheduler       one of {@link #SCHEDULERS}.
 * @param maglevTableSize the Maglev lookup table size, a prime; only the {@code maglev}
 *                        scheduler uses it.
 * @param backends        the backends, at least one, unique by address and port.
 * @param mode            how packets reach the backends: NAT, direct server return or IP-in-IP.
 * @param check           the TCP health check of every backend, or null for none (ARP probes only).
 */
public record ServiceConfig(
    String name,
    int vip,
    int port,
    Protocol protocol,
    String scheduler,
    int maglevTableSize,
    List<BackendConfig> backends,
    ForwardingMode mode,
    TcpCheckConfig check)
{
    /**
     * The scheduler names, in the spirit of ipvsadm: random, round robin, weighted round robin,
     * least connections, weighted least connections, source hashing, Maglev consistent hashing.
     */
    public static final List<String> SCHEDULERS = List.of("random", "rr", "wrr", "lc", "wlc", "sh", "maglev");

    /** Copies the backend list so the record stays immutable. */
    public ServiceConfig
    {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(protocol, "protocol");
        Objects.requireNonNull(scheduler, "scheduler");
        Objects.requireNonNull(mode, "mode");
        backends = List.copyOf(backends);
    }

    /** A service without a TCP check. */
    public ServiceConfig(final String name, final int vip, final int port, final Protocol protocol, final String scheduler,
        final int maglevTableSize, final List<BackendConfig> backends, final ForwardingMode mode)
    {
        this(name, vip, port, protocol, scheduler, maglevTableSize, backends, mode, null);
    }

    /** A NAT service. */
    public ServiceConfig(final String name, final int vip, final int port, final Protocol protocol, final String scheduler,
        final int maglevTableSize, final List<BackendConfig> backends)
    {
        this(name, vip, port, protocol, scheduler, maglevTableSize, backends, ForwardingMode.NAT);
    }

    /**
     * @param backend one of this service's backends.
     * @return the port flows to that backend go to: its own, or the service port.
     */
    public int backendPort(final BackendConfig backend)
    {
        return backend.port() == BackendConfig.SAME_PORT ? port : backend.port();
    }

    /** @return the service key as written in the config file, for example {@code 198.18.0.100:80/tcp}. */
    public String key()
    {
        return IpAddresses.endpoint(vip, port) + "/" + protocol.configName();
    }

    @Override
    public String toString()
    {
        return "ServiceConfig[" + name + " " + key() + " scheduler " + scheduler +
            " maglevTableSize " + maglevTableSize + " mode " + mode.configName() +
            (check == null ? "" : " " + check.describe()) + " backends " + backends + "]";
    }
}
