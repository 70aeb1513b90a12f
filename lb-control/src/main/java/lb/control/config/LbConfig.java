package lb.control.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * The whole configuration of one lb appliance, validated: build it with {@link LbConfigBuilder}
 * (which {@link ConfigParser} and the command line fill), not by hand, unless the values are
 * known to be valid.
 *
 * @param clientInterface the client-side interface, where the VIPs live.
 * @param serverInterface the server-side interface, where the backends live.
 * @param clientIp        lb's own address on the client side (answers ARP and ping).
 * @param gatewayIp       lb's address on the server side: the backends' default route, so
 *                        their replies come back through lb to be un-NATed.
 * @param services        the virtual services, at least one.
 * @param probe           backend ARP probing.
 * @param timeouts        idle timeouts of flows.
 * @param flowCapacity    the flow table's capacity in flows.
 * @param idleStrategy    what a worker does when it found no work.
 * @param idleSpin        how long a backoff worker spins on empty rings before it sleeps.
 * @param rxRing          the receive ring layout.
 * @param workers         the number of dataplane worker threads.
 * @param workerCpus      the CPU each worker is pinned to, in worker order; empty: not pinned.
 * @param controlSocket   the unix socket path of the control interface.
 * @param serverNetwork   the server-side LAN (backends must be on it), or null when not given;
 *                        required by DSR services.
 * @param bgp             how lb announces its VIPs over BGP, or null: not announced.
 * @param routes          route services (lb as the clients' router for a prefix), maybe none.
 * @param ipv6            lb's own IPv6 addresses and IPv6 flow table, {@link Ipv6Config#NONE} without IPv6.
 */
public record LbConfig(
    String clientInterface,
    String serverInterface,
    int clientIp,
    int gatewayIp,
    List<ServiceConfig> services,
    ProbeConfig probe,
    FlowTimeouts timeouts,
    int flowCapacity,
    IdleStrategyKind idleStrategy,
    Duration idleSpin,
    RxRingConfig rxRing,
    int workers,
    List<Integer> workerCpus,
    Path controlSocket,
    Ipv4Prefix serverNetwork,
    BgpConfig bgp,
    List<RouteConfig> routes,
    Ipv6Config ipv6)
{
    /** Copies the service list so the record stays immutable, and rejects nulls. */
    public LbConfig
    {
        Objects.requireNonNull(clientInterface, "clientInterface");
        Objects.requireNonNull(serverInterface, "serverInterface");
        services = List.copyOf(services);
        Objects.requireNonNull(probe, "probe");
        Objects.requireNonNull(timeouts, "timeouts");
        Objects.requireNonNull(idleStrategy, "idleStrategy");
        Objects.requireNonNull(idleSpin, "idleSpin");
        Objects.requireNonNull(rxRing, "rxRing");
        workerCpus = List.copyOf(workerCpus);
        Objects.requireNonNull(controlSocket, "controlSocket");
        routes = List.copyOf(routes);
        Objects.requireNonNull(ipv6, "ipv6");
    }

    /** A config without IPv6. */
    public LbConfig(final String clientInterface, final String serverInterface, final int clientIp, final int gatewayIp,
        final List<ServiceConfig> services, final ProbeConfig probe, final FlowTimeouts timeouts, final int flowCapacity,
        final IdleStrategyKind idleStrategy, final Duration idleSpin, final RxRingConfig rxRing, final int workers,
        final List<Integer> workerCpus, final Path controlSocket, final Ipv4Prefix serverNetwork, final BgpConfig bgp,
        final List<RouteConfig> routes)
    {
        this(clientInterface, serverInterface, clientIp, gatewayIp, services, probe, timeouts, flowCapacity, idleStrategy,
            idleSpin, rxRing, workers, workerCpus, controlSocket, serverNetwork, bgp, routes, Ipv6Config.NONE);
    }

    /** A config without route services. */
    public LbConfig(final String clientInterface, final String serverInterface, final int clientIp, final int gatewayIp,
        final List<ServiceConfig> services, final ProbeConfig probe, final FlowTimeouts timeouts, final int flowCapacity,
        final IdleStrategyKind idleStrategy, final Duration idleSpin, final RxRingConfig rxRing, final int workers,
        final List<Integer> workerCpus, final Path controlSocket, final Ipv4Prefix serverNetwork, final BgpConfig bgp)
    {
        this(clientInterface, serverInterface, clientIp, gatewayIp, services, probe, timeouts, flowCapacity, idleStrategy,
            idleSpin, rxRing, workers, workerCpus, controlSocket, serverNetwork, bgp, List.of());
    }

    /** A config without server-network and without BGP. */
    public LbConfig(final String clientInterface, final String serverInterface, final int clientIp, final int gatewayIp,
        final List<ServiceConfig> services, final ProbeConfig probe, final FlowTimeouts timeouts, final int flowCapacity,
        final IdleStrategyKind idleStrategy, final Duration idleSpin, final RxRingConfig rxRing, final int workers,
        final List<Integer> workerCpus, final Path controlSocket)
    {
        this(clientInterface, serverInterface, clientIp, gatewayIp, services, probe, timeouts, flowCapacity, idleStrategy,
            idleSpin, rxRing, workers, workerCpus, controlSocket, null, null, List.of());
    }

    /**
     * @param name a service name.
     * @return the service with that name, or null.
     */
    public ServiceConfig service(final String name)
    {
        for (final ServiceConfig service : services)
        {
            if (service.name().equals(name))
            {
                return service;
            }
        }
        return null;
    }
}
