package lb.control.config;

import lb.dataplane.pipeline.ForwardingMode;
import lb.dataplane.spread.NextHopGroup;
import lb.dataplane.spread.SpreadPolicy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Collects settings together with where each came from, then checks the whole and builds an
 * {@link LbConfig}. The config file fills a builder first and command-line flags override it
 * afterwards, so a later setter call wins. Every error names the origin of the setting to fix.
 * <p>
 * Single values are already checked by {@link Values} when they arrive here; {@link #build()}
 * checks what only the whole can show: missing settings, duplicates and clashing addresses.
 */
public final class LbConfigBuilder
{
    /** Each side's ring may take at most this much memory; one mmap holds RX and TX and is int-indexed. */
    public static final long MAX_RING_BYTES = 1L << 30;

    private final String fileName;

    private final Setting<String> clientInterface = new Setting<>("client-interface", "--client-if", "NAME");
    private final Setting<String> serverInterface = new Setting<>("server-interface", "--server-if", "NAME");
    private final Setting<Integer> clientIp = new Setting<>("client-ip", "--client-ip", "IP");
    private final Setting<Integer> gatewayIp = new Setting<>("gateway-ip", "--gateway-ip", "IP");
    private final Setting<Duration> probeInterval = defaulted(Values.duration(ConfigDefaults.PROBE_INTERVAL));
    private final Setting<Duration> probeTimeout = defaulted(Values.duration(ConfigDefaults.PROBE_TIMEOUT));
    private final Setting<Integer> probeRetries = defaulted(Values.probeRetries(ConfigDefaults.PROBE_RETRIES));
    private final Setting<Duration> timeoutTcpSyn = defaulted(Values.duration(ConfigDefaults.TIMEOUT_TCP_SYN));
    private final Setting<Duration> timeoutTcpEstablished =
        defaulted(Values.duration(ConfigDefaults.TIMEOUT_TCP_ESTABLISHED));
    private final Setting<Duration> timeoutTcpClosing = defaulted(Values.duration(ConfigDefaults.TIMEOUT_TCP_CLOSING));
    private final Setting<Duration> timeoutUdp = defaulted(Values.duration(ConfigDefaults.TIMEOUT_UDP));
    private final Setting<Integer> flowCapacity = defaulted(Values.flowCapacity(ConfigDefaults.FLOW_CAPACITY));
    private final Setting<IdleStrategyKind> idleStrategy = defaulted(Values.idleStrategy(ConfigDefaults.IDLE_STRATEGY));
    private final Setting<Duration> idleSpin = defaulted(Values.idleSpin(ConfigDefaults.IDLE_SPIN));
    private final Setting<RingVersion> rxRingVersion = defaulted(Values.ringVersion(ConfigDefaults.RX_RING_VERSION));
    private final Setting<Integer> rxFrameSize = defaulted(Values.frameSize(ConfigDefaults.RX_FRAME_SIZE));
    private final Setting<Integer> rxFrameCount = defaulted(Values.frameCount(ConfigDefaults.RX_FRAME_COUNT));
    private final Setting<Integer> workers = defaulted(Values.workers(ConfigDefaults.WORKERS));
    private final Setting<List<Integer>> workerCpus = defaulted(Values.workerCpus(ConfigDefaults.WORKER_CPUS));
    private final Setting<Path> controlSocket = defaulted(Values.controlSocket(ConfigDefaults.CONTROL_SOCKET));
    private final Setting<Ipv4Prefix> serverNetwork = new Setting<>("server-network", "--server-network", "PREFIX");
    private final Setting<Integer> clientIp6 = new Setting<>("client-ip6", "--client-ip6", "IPV6");
    private final Setting<Integer> gatewayIp6 = new Setting<>("gateway-ip6", "--gateway-ip6", "IPV6");
    private final Setting<Ipv6Prefix> serverNetwork6 = new Setting<>("server-network6", "--server-network6", "PREFIX");
    private final Setting<Integer> flowTableSize6 = defaulted(Values.flowTableSize6(ConfigDefaults.FLOW_TABLE_SIZE6));
    private final Setting<Values.IpAndAs> bgpLocal = new Setting<>("bgp-local", null, "IP AS");
    private final Setting<Values.IpAndAs> bgpNeighbor = new Setting<>("bgp-neighbor", null, "IP AS");
    private final Setting<Integer> bgpNextHop = new Setting<>("bgp-next-hop", null, "IP");
    private final Setting<Boolean> bgpBfd = defaulted(Boolean.TRUE);
    private final Setting<Duration> bgpHoldTime = defaulted(Values.duration(ConfigDefaults.BGP_HOLD_TIME));
    private final Setting<Path> bird = defaulted(Path.of(ConfigDefaults.BIRD));
    private final Setting<Path> birdDir = new Setting<>("bird-dir", null, "PATH");
    private final List<ServiceDraft> services = new ArrayList<>();
    private final List<RouteDraft> routes = new ArrayList<>();

    /** A builder for settings that come from the command line only. */
    public LbConfigBuilder()
    {
        this(null);
    }

    /**
     * @param fileName the config file as the user named it, for errors about the file as a whole;
     *                 null when there is no file.
     */
    public LbConfigBuilder(final String fileName)
    {
        this.fileName = fileName;
    }

    /** @return the config file as the user named it, or null. */
    public String fileName()
    {
        return fileName;
    }

    /**
     * @param name   the client-side interface.
     * @param origin where it was set.
     * @return this.
     */
    public LbConfigBuilder clientInterface(final String name, final Origin origin)
    {
        clientInterface.set(name, origin);
        return this;
    }

    /**
     * @param name   the server-side interface.
     * @param origin where it was set.
     * @return this.
     */
    public LbConfigBuilder serverInterface(final String name, final Origin origin)
    {
        serverInterface.set(name, origin);
        return this;
    }

    /**
     * @param ip     lb's own client-side address.
     * @param origin where it was set.
     * @return this.
     */
    public LbConfigBuilder clientIp(final int ip, final Origin origin)
    {
        clientIp.set(ip, origin);
        return this;
    }

    /**
     * @param ip     lb's server-side address, the backends' default gateway.
     * @param origin where it was set.
     * @return this.
     */
    public LbConfigBuilder gatewayIp(final int ip, final Origin origin)
    {
        gatewayIp.set(ip, origin);
        return this;
    }

    /**
     * @param prefix the server-side LAN.
     * @param origin where it was set.
     * @return this.
     */
    public LbConfigBuilder serverNetwork(final Ipv4Prefix prefix, final Origin origin)
    {
        serverNetwork.set(prefix, origin);
        return this;
    }

    /** @return this, with lb's own IPv6 address on the client side (an alias, see {@link IpAddresses}). */
    public LbConfigBuilder clientIp6(final int alias, final Origin origin)
    {
        clientIp6.set(alias, origin);
        return this;
    }

    /** @return this, with lb's IPv6 address on the server side, the IPv6 backends' default route (an alias). */
    public LbConfigBuilder gatewayIp6(final int alias, final Origin origin)
    {
        gatewayIp6.set(alias, origin);
        return this;
    }

    /** @return this, with the server-side IPv6 LAN. */
    public LbConfigBuilder serverNetwork6(final Ipv6Prefix prefix, final Origin origin)
    {
        serverNetwork6.set(prefix, origin);
        return this;
    }

    /** @return this, with the IPv6 flow table's entries. */
    public LbConfigBuilder flowTableSize6(final int size, final Origin origin)
    {
        flowTableSize6.set(size, origin);
        return this;
    }

    /** @return this, with lb's BGP session source address and AS. */
    public LbConfigBuilder bgpLocal(final Values.IpAndAs local, final Origin origin)
    {
        bgpLocal.set(local, origin);
        return this;
    }

    /** @return this, with the router lb announces its VIPs to. */
    public LbConfigBuilder bgpNeighbor(final Values.IpAndAs neighbor, final Origin origin)
    {
        bgpNeighbor.set(neighbor, origin);
        return this;
    }

    /** @return this, with the next hop lb's routes carry (default: client-ip). */
    public LbConfigBuilder bgpNextHop(final int ip, final Origin origin)
    {
        bgpNextHop.set(ip, origin);
        return this;
    }

    /** @return this, with BFD on the BGP session on or off. */
    public LbConfigBuilder bgpBfd(final boolean on, final Origin origin)
    {
        bgpBfd.set(on, origin);
        return this;
    }

    /** @return this, with the BGP hold time. */
    public LbConfigBuilder bgpHoldTime(final Duration holdTime, final Origin origin)
    {
        bgpHoldTime.set(holdTime, origin);
        return this;
    }

    /** @return this, with the BIRD binary. */
    public LbConfigBuilder bird(final Path binary, final Origin origin)
    {
        bird.set(binary, origin);
        return this;
    }

    /** @return this, with BIRD's run directory. */
    public LbConfigBuilder birdDir(final Path dir, final Origin origin)
    {
        birdDir.set(dir, origin);
        return this;
    }

    /**
     * @param interval one ARP probe cycle across all backends.
     * @param origin   where it was set.
     * @return this.
     */
    public LbConfigBuilder probeInterval(final Duration interval, final Origin origin)
    {
        probeInterval.set(interval, origin);
        return this;
    }

    /**
     * @param retries probes sent again when one goes unanswered, before the backend counts as down.
     * @param origin  where it was set.
     * @return this.
     */
    public LbConfigBuilder probeRetries(final int retries, final Origin origin)
    {
        probeRetries.set(retries, origin);
        return this;
    }

    /**
     * @param timeout how long a probe waits for its reply.
     * @param origin  where it was set.
     * @return this.
     */
    public LbConfigBuilder probeTimeout(final Duration timeout, final Origin origin)
    {
        probeTimeout.set(timeout, origin);
        return this;
    }

    /**
     * @param timeout idle timeout of a TCP flow that has seen only a SYN.
     * @param origin  where it was set.
     * @return this.
     */
    public LbConfigBuilder timeoutTcpSyn(final Duration timeout, final Origin origin)
    {
        timeoutTcpSyn.set(timeout, origin);
        return this;
    }

    /**
     * @param timeout idle timeout of an established TCP flow.
     * @param origin  where it was set.
     * @return this.
     */
    public LbConfigBuilder timeoutTcpEstablished(final Duration timeout, final Origin origin)
    {
        timeoutTcpEstablished.set(timeout, origin);
        return this;
    }

    /**
     * @param timeout idle timeout of a TCP flow after FIN or RST.
     * @param origin  where it was set.
     * @return this.
     */
    public LbConfigBuilder timeoutTcpClosing(final Duration timeout, final Origin origin)
    {
        timeoutTcpClosing.set(timeout, origin);
        return this;
    }

    /**
     * @param timeout idle timeout of a UDP flow.
     * @param origin  where it was set.
     * @return this.
     */
    public LbConfigBuilder timeoutUdp(final Duration timeout, final Origin origin)
    {
        timeoutUdp.set(timeout, origin);
        return this;
    }

    /**
     * @param capacity the flow table's capacity in flows.
     * @param origin   where it was set.
     * @return this.
     */
    public LbConfigBuilder flowCapacity(final int capacity, final Origin origin)
    {
        flowCapacity.set(capacity, origin);
        return this;
    }

    /**
     * @param kind   what a worker does when idle.
     * @param origin where it was set.
     * @return this.
     */
    public LbConfigBuilder idleStrategy(final IdleStrategyKind kind, final Origin origin)
    {
        idleStrategy.set(kind, origin);
        return this;
    }

    /**
     * @param spin   how long a backoff worker spins on empty rings before it sleeps.
     * @param origin where it was set.
     * @return this.
     */
    public LbConfigBuilder idleSpin(final Duration spin, final Origin origin)
    {
        idleSpin.set(spin, origin);
        return this;
    }

    /**
     * @param version the receive ring layout.
     * @param origin  where it was set.
     * @return this.
     */
    public LbConfigBuilder rxRingVersion(final RingVersion version, final Origin origin)
    {
        rxRingVersion.set(version, origin);
        return this;
    }

    /**
     * @param frameSize bytes per receive frame slot.
     * @param origin    where it was set.
     * @return this.
     */
    public LbConfigBuilder rxFrameSize(final int frameSize, final Origin origin)
    {
        rxFrameSize.set(frameSize, origin);
        return this;
    }

    /**
     * @param frameCount receive frame slots per ring.
     * @param origin     where it was set.
     * @return this.
     */
    public LbConfigBuilder rxFrameCount(final int frameCount, final Origin origin)
    {
        rxFrameCount.set(frameCount, origin);
        return this;
    }

    /**
     * @param count  dataplane worker threads.
     * @param origin where it was set.
     * @return this.
     */
    public LbConfigBuilder workers(final int count, final Origin origin)
    {
        workers.set(count, origin);
        return this;
    }

    /**
     * @param cpus   the CPU of each worker, in worker order (empty: not pinned).
     * @param origin where it was set.
     * @return this.
     */
    public LbConfigBuilder workerCpus(final List<Integer> cpus, final Origin origin)
    {
        workerCpus.set(cpus, origin);
        return this;
    }

    /**
     * @param path   the control interface's unix socket.
     * @param origin where it was set.
     * @return this.
     */
    public LbConfigBuilder controlSocket(final Path path, final Origin origin)
    {
        controlSocket.set(path, origin);
        return this;
    }

    /**
     * Starts a service; give it backends and settings through the returned draft.
     *
     * @param name    the service's name.
     * @param address its VIP, port and protocol.
     * @param origin  where it was defined.
     * @return the draft of the service.
     */
    public ServiceDraft addService(final String name, final Values.ServiceAddress address, final Origin origin)
    {
        final ServiceDraft service = new ServiceDraft(name, address, origin);
        services.add(service);
        return service;
    }

    /** @return a new route section, to be filled by the parser. */
    public RouteDraft addRoute(final String name, final RoutePrefix prefix, final Origin origin)
    {
        final RouteDraft route = new RouteDraft(name, prefix, origin);
        routes.add(route);
        return route;
    }

    /**
     * Checks the settings as a whole and builds the configuration.
     *
     * @return the configuration.
     * @throws ConfigException naming the first problem found and where to fix it.
     */
    public LbConfig build()
    {
        final String clientIf = required(clientInterface);
        final String serverIf = required(serverInterface);
        final int client = required(clientIp);
        final int gateway = required(gatewayIp);

        if (clientIf.equals(serverIf))
        {
            throw new ConfigException(serverInterface.origin, serverInterface.directive,
                "'" + serverIf + "' is also the client-interface (" +
                clientInterface.origin.referenceFrom(serverInterface.origin) + "); lb needs one interface per side");
        }
        if (client == gateway)
        {
            throw new ConfigException(gatewayIp.origin, gatewayIp.directive,
                IpAddresses.format(gateway) + " is also the client-ip (" + clientIp.origin.referenceFrom(gatewayIp.origin) +
                "); lb's own addresses must be distinct");
        }
        final Ipv6Config ipv6 = ipv6();
        if (services.isEmpty() && routes.isEmpty())
        {
            throw fileName != null ?
                new ConfigException(fileName + ": no service defined", false) :
                new ConfigException("no service defined: give --vip and --backends, --route and --next-hops, or --config FILE", true);
        }

        if (!workerCpus.value.isEmpty() && workerCpus.value.size() != workers.value)
        {
            throw new ConfigException(workerCpus.origin, "worker-cpus",
                workerCpus.value.size() + " CPU(s) for " + workers.value + " worker(s)" +
                (workers.origin != null ? " (" + workers.origin.referenceFrom(workerCpus.origin) + ")" : "") +
                "; give one CPU per worker");
        }

        final long ringBytes = (long)rxFrameSize.value * rxFrameCount.value;
        if (ringBytes > MAX_RING_BYTES)
        {
            final Setting<Integer> blamed = rxFrameCount.origin != null ? rxFrameCount : rxFrameSize;
            throw new ConfigException(blamed.origin, "rx-ring",
                rxFrameCount.value + " frames of " + rxFrameSize.value + " bytes take " + (ringBytes >> 20) +
                " MiB, at most " + (MAX_RING_BYTES >> 20) + " MiB per ring");
        }

        final List<ServiceConfig> built = new ArrayList<>(services.size());
        final Map<String, ServiceDraft> byName = new HashMap<>();
        final Map<String, ServiceDraft> byKey = new HashMap<>();
        for (final ServiceDraft service : services)
        {
            built.add(service.build(byName, byKey, ipv6));
        }
        final BgpConfig bgp = bgp(client);
        final List<RouteConfig> builtRoutes = new ArrayList<>(routes.size());
        final Map<String, RouteDraft> routesByName = new HashMap<>();
        for (final RouteDraft route : routes)
        {
            builtRoutes.add(route.build(routesByName, built, client, gateway, ipv6));
        }

        return new LbConfig(
            clientIf,
            serverIf,
            client,
            gateway,
            built,
            new ProbeConfig(probeInterval.value, probeTimeout.value, probeRetries.value),
            new FlowTimeouts(
                timeoutTcpSyn.value, timeoutTcpEstablished.value, timeoutTcpClosing.value, timeoutUdp.value),
            flowCapacity.value,
            idleStrategy.value,
            idleSpin.value,
            new RxRingConfig(rxRingVersion.value, rxFrameSize.value, rxFrameCount.value),
            workers.value,
            workerCpus.value,
            controlSocket.value,
            serverNetwork.value,
            bgp,
            builtRoutes,
            ipv6);
    }

    /** lb's IPv6 addresses, which must be IPv6 and distinct (IPv4 ones are checked by their parser). */
    private Ipv6Config ipv6()
    {
        final int client6 = clientIp6.value != null ? clientIp6.value : 0;
        final int gateway6 = gatewayIp6.value != null ? gatewayIp6.value : 0;
        if (client6 != 0 && client6 == gateway6)
        {
            throw new ConfigException(gatewayIp6.origin, gatewayIp6.directive,
                IpAddresses.format(gateway6) + " is also the client-ip6 (" + clientIp6.origin.referenceFrom(gatewayIp6.origin) +
                "); lb's own addresses must be distinct");
        }
        if (client6 != 0 && gateway6 == 0)
        {
            throw new ConfigException(clientIp6.origin, clientIp6.directive,
                "needs gateway-ip6 too (lb's server-side IPv6 address, the IPv6 backends' default route)");
        }
        return new Ipv6Config(client6, gateway6, serverNetwork6.value, flowTableSize6.value);
    }

    private <T> T required(final Setting<T> setting)
    {
        if (setting.value == null && setting.flag == null)
        {
            throw new ConfigException((fileName != null ? fileName : "config") + ": " + setting.directive +
                ": not set (add '" + setting.directive + " " + setting.valueLabel + "')", false);
        }
        if (setting.value == null)
        {
            throw fileName != null ?
                new ConfigException(fileName + ": " + setting.directive + ": not set (add '" + setting.directive + " " +
                    setting.valueLabel + "' or give " + setting.flag + ")", false) :
                new ConfigException(setting.flag + ": not set (give " + setting.flag + " " + setting.valueLabel +
                    ", or --config FILE)", true);
        }
        return setting.value;
    }

    /** The BGP settings, when any is given: local and neighbor are then required. */
    private BgpConfig bgp(final int clientIp)
    {
        final boolean any = bgpLocal.value != null || bgpNeighbor.value != null || bgpNextHop.value != null ||
            birdDir.value != null;
        if (!any)
        {
            return null;
        }
        final Values.IpAndAs local = required(bgpLocal);
        final Values.IpAndAs neighbor = required(bgpNeighbor);
        if (local.ip() == neighbor.ip())
        {
            throw new ConfigException(bgpNeighbor.origin, "bgp-neighbor", IpAddresses.format(neighbor.ip()) +
                " is also bgp-local (" + bgpLocal.origin.referenceFrom(bgpNeighbor.origin) + ")");
        }
        final Path runDir = birdDir.value != null ? birdDir.value :
            controlSocket.value.resolveSibling(controlSocket.value.getFileName() + ".bird");
        return new BgpConfig(local.ip(), local.as(), neighbor.ip(), neighbor.as(),
            bgpNextHop.value != null ? bgpNextHop.value : clientIp, bgpBfd.value, bgpHoldTime.value, bird.value, runDir);
    }

    /** The VIP of some service equal to the address, for clash messages, or null. */
    private ServiceDraft serviceWithVip(final int address)
    {
        for (final ServiceDraft service : services)
        {
            if (service.address.vip() == address)
            {
                return service;
            }
        }
        return null;
    }

    private static <T> Setting<T> defaulted(final T value)
    {
        final Setting<T> setting = new Setting<>(null, null, null);
        setting.value = value;
        return setting;
    }

    /** A value and where it came from; a null origin means the default. */
    private static final class Setting<T>
    {
        final String directive;
        final String flag;
        final String valueLabel;
        T value;
        Origin origin;

        Setting(final String directive, final String flag, final String valueLabel)
        {
            this.directive = directive;
            this.flag = flag;
            this.valueLabel = valueLabel;
        }

        void set(final T value, final Origin origin)
        {
            this.value = value;
            this.origin = origin;
        }
    }

    private record BackendDraft(Values.BackendAddress address, int weight, Origin origin)
    {
    }

    /** A service being collected: its backends and settings, each with its origin. */
    /** One route section of the config file, checked by {@link #build()}. */
    public final class RouteDraft
    {
        private final String name;
        private final RoutePrefix prefix;
        private final Origin origin;
        private final List<Integer> nextHops = new ArrayList<>();
        private final List<Origin> nextHopOrigins = new ArrayList<>();
        private SpreadPolicy policy = Values.spreadPolicy(ConfigDefaults.ROUTE_POLICY);
        private boolean rebalance;
        private Origin rebalanceOrigin;
        private Duration flowletGap = Values.duration(ConfigDefaults.FLOWLET_GAP);
        private Origin flowletGapOrigin;

        private RouteDraft(final String name, final RoutePrefix prefix, final Origin origin)
        {
            this.name = name;
            this.prefix = prefix;
            this.origin = origin;
        }

        public String name()
        {
            return name;
        }

        public Origin origin()
        {
            return origin;
        }

        public RouteDraft nextHop(final int ip, final Origin at)
        {
            final int same = nextHops.indexOf(ip);
            if (same >= 0)
            {
                throw new ConfigException(at, "next-hop", IpAddresses.format(ip) + " is already a next hop of route '" + name +
                    "' (" + nextHopOrigins.get(same).referenceFrom(at) + ")");
            }
            if (nextHops.size() == NextHopGroup.MAX_HOPS)
            {
                throw new ConfigException(at, "next-hop", "route '" + name + "' has " + NextHopGroup.MAX_HOPS +
                    " next hops already, the most one route takes");
            }
            nextHops.add(ip);
            nextHopOrigins.add(at);
            return this;
        }

        public RouteDraft policy(final SpreadPolicy value, final Origin at)
        {
            policy = value;
            return this;
        }

        public RouteDraft rebalance(final boolean on, final Origin at)
        {
            rebalance = on;
            rebalanceOrigin = at;
            return this;
        }

        public RouteDraft flowletGap(final Duration gap, final Origin at)
        {
            flowletGap = gap;
            flowletGapOrigin = at;
            return this;
        }

        private RouteConfig build(final Map<String, RouteDraft> byName, final List<ServiceConfig> services, final int clientIp,
            final int gatewayIp, final Ipv6Config ipv6)
        {
            final String field = "route " + name;
            final RouteDraft sameName = byName.putIfAbsent(name, this);
            if (sameName != null)
            {
                throw new ConfigException(origin, field, "name '" + name + "' is already used (" +
                    sameName.origin.referenceFrom(origin) + ")");
            }
            for (final RouteDraft other : byName.values())
            {
                if (other != this && other.prefix.overlaps(prefix))
                {
                    throw new ConfigException(origin, field, prefix + " overlaps route '" + other.name + "' " + other.prefix +
                        " (" + other.origin.referenceFrom(origin) + ")");
                }
            }
            for (final ServiceConfig service : services)
            {
                if (prefix.holds(service.vip()))
                {
                    throw new ConfigException(origin, field, prefix + " holds VIP " + IpAddresses.format(service.vip()) +
                        " of service '" + service.name() + "': a VIP cannot be routed through");
                }
            }
            final RouteConfig.Family family = RouteConfig.Family.of(prefix, clientIp, gatewayIp, serverNetwork.value, ipv6);
            final String ownAddress = RouteConfig.prefixProblem(prefix, family);
            if (ownAddress != null)
            {
                throw new ConfigException(origin, field, ownAddress);
            }
            if (nextHops.isEmpty())
            {
                throw new ConfigException(origin, field, "no next hops (add 'next-hop IP' lines after it)");
            }
            final String missing = family.missing(prefix);
            if (missing != null)
            {
                throw new ConfigException(origin, field, missing);
            }
            for (int i = 0; i < nextHops.size(); i++)
            {
                final String problem = RouteConfig.nextHopProblem(nextHops.get(i), prefix, family);
                if (problem != null)
                {
                    throw new ConfigException(nextHopOrigins.get(i), "next-hop", problem);
                }
            }
            if (rebalance && policy != SpreadPolicy.LEAST_FLOWS)
            {
                throw new ConfigException(rebalanceOrigin, "rebalance", "needs policy least-flows (route '" + name +
                    "' has " + policy.configName() + ")");
            }
            if (flowletGapOrigin != null && policy != SpreadPolicy.FLOWLET)
            {
                throw new ConfigException(flowletGapOrigin, "flowlet-gap", "needs policy flowlet (route '" + name +
                    "' has " + policy.configName() + ")");
            }
            return new RouteConfig(name, prefix, nextHops, policy, rebalance, flowletGap);
        }
    }

    public final class ServiceDraft
    {
        private final String name;
        private final Values.ServiceAddress address;
        private final Origin origin;
        private String scheduler = Values.scheduler(ConfigDefaults.SCHEDULER);
        private Origin schedulerOrigin;
        private int maglevTableSize = Values.maglevTableSize(ConfigDefaults.MAGLEV_TABLE_SIZE);
        private Origin maglevTableSizeOrigin;
        private ForwardingMode mode = ForwardingMode.NAT;
        private Origin modeOrigin;
        private final List<BackendDraft> backends = new ArrayList<>();
        private boolean check;
        private Origin checkOrigin;
        private final TcpCheckConfig checkDefaults = TcpCheckConfig.defaults();
        private int checkPort = checkDefaults.port();
        private Duration checkInterval = checkDefaults.interval();
        private Duration checkTimeout = checkDefaults.timeout();
        private int checkRise = checkDefaults.rise();
        private int checkFall = checkDefaults.fall();
        /** Where each check option was given, to blame one given without {@code check tcp}. */
        private final Map<String, Origin> checkOptions = new LinkedHashMap<>();

        private ServiceDraft(final String name, final Values.ServiceAddress address, final Origin origin)
        {
            this.name = name;
            this.address = address;
            this.origin = origin;
        }

        /** @return the service's name. */
        public String name()
        {
            return name;
        }

        /** @return where the service was defined. */
        public Origin origin()
        {
            return origin;
        }

        /**
         * @param name   one of {@link ServiceConfig#SCHEDULERS}.
         * @param origin where it was set.
         * @return this.
         */
        public ServiceDraft scheduler(final String name, final Origin origin)
        {
            this.scheduler = name;
            this.schedulerOrigin = origin;
            return this;
        }

        /**
         * @param mode   how packets reach the backends.
         * @param origin where it was set.
         * @return this.
         */
        public ServiceDraft mode(final ForwardingMode mode, final Origin origin)
        {
            this.mode = mode;
            this.modeOrigin = origin;
            return this;
        }

        /**
         * @param size   the Maglev table size, a prime.
         * @param origin where it was set.
         * @return this.
         */
        public ServiceDraft maglevTableSize(final int size, final Origin origin)
        {
            this.maglevTableSize = size;
            this.maglevTableSizeOrigin = origin;
            return this;
        }

        /**
         * @param on     whether the service has a TCP health check.
         * @param origin where it was set.
         * @return this.
         */
        public ServiceDraft check(final boolean on, final Origin origin)
        {
            this.check = on;
            this.checkOrigin = origin;
            return this;
        }

        /** @return this, checking {@code port} on every backend instead of the backend's own port. */
        public ServiceDraft checkPort(final int port, final Origin origin)
        {
            this.checkPort = port;
            checkOptions.put("check-port", origin);
            return this;
        }

        /** @return this, with the time from one check of a backend to the next. */
        public ServiceDraft checkInterval(final Duration interval, final Origin origin)
        {
            this.checkInterval = interval;
            checkOptions.put("check-interval", origin);
            return this;
        }

        /** @return this, with the time a check waits for its answer. */
        public ServiceDraft checkTimeout(final Duration timeout, final Origin origin)
        {
            this.checkTimeout = timeout;
            checkOptions.put("check-timeout", origin);
            return this;
        }

        /** @return this, with the passes in a row that bring a failed backend back. */
        public ServiceDraft checkRise(final int rise, final Origin origin)
        {
            this.checkRise = rise;
            checkOptions.put("check-rise", origin);
            return this;
        }

        /** @return this, with the failures in a row that take a backend out. */
        public ServiceDraft checkFall(final int fall, final Origin origin)
        {
            this.checkFall = fall;
            checkOptions.put("check-fall", origin);
            return this;
        }

        /**
         * @param backend its address and optional port.
         * @param weight  its weight.
         * @param origin  where it was listed.
         * @return this.
         */
        public ServiceDraft addBackend(final Values.BackendAddress backend, final int weight, final Origin origin)
        {
            backends.add(new BackendDraft(backend, weight, origin));
            return this;
        }

        private ServiceConfig build(
            final Map<String, ServiceDraft> byName,
            final Map<String, ServiceDraft> byKey,
            final Ipv6Config ipv6)
        {
            final String key = key();
            final ServiceDraft sameName = byName.putIfAbsent(name, this);
            if (sameName != null)
            {
                throw new ConfigException(origin, "service " + name,
                    "name '" + name + "' is already used (" + sameName.origin.referenceFrom(origin) + ")");
            }
            final ServiceDraft sameKey = byKey.putIfAbsent(key, this);
            if (sameKey != null)
            {
                throw new ConfigException(origin, "service " + name,
                    key + " is already service '" + sameKey.name + "' (" + sameKey.origin.referenceFrom(origin) + ")");
            }
            checkVipNotOwnAddress(LbConfigBuilder.this.clientIp, LbConfigBuilder.this.gatewayIp);
            checkVipNotOwnAddress(clientIp6, gatewayIp6);
            checkIpv6Service(ipv6);
            if (backends.isEmpty())
            {
                throw new ConfigException(origin, "service " + name,
                    "no backends (add 'backend IP[:PORT]' lines after it)");
            }

            final List<BackendConfig> built = new ArrayList<>(backends.size());
            final Map<Long, BackendDraft> byEndpoint = new HashMap<>();
            for (final BackendDraft backend : backends)
            {
                final int ip = backend.address().ip();
                final int port = backend.address().port() == BackendConfig.SAME_PORT ?
                    address.port() : backend.address().port();
                final String endpoint = IpAddresses.endpoint(ip, port);
                final BackendDraft same = byEndpoint.putIfAbsent(((long)ip << 16) | port, backend);
                if (same != null)
                {
                    throw new ConfigException(backend.origin(), "backend",
                        endpoint + " is already a backend of service '" + name + "'" +
                        (same.origin().equals(backend.origin()) ? "" :
                            " (" + same.origin().referenceFrom(backend.origin()) + ")"));
                }
                checkBackendFamily(backend);
                checkBackendNotOwnAddress(backend, LbConfigBuilder.this.clientIp, LbConfigBuilder.this.gatewayIp);
                checkBackendNotOwnAddress(backend, clientIp6, gatewayIp6);
                checkBackendForMode(backend, endpoint, port);
                built.add(new BackendConfig(ip, backend.address().port(), backend.weight()));
            }

            if (backends.size() > Values.MAX_BACKENDS_PER_SERVICE)
            {
                throw new ConfigException(origin, "service " + name,
                    backends.size() + " backends: at most " + Values.MAX_BACKENDS_PER_SERVICE);
            }
            if (scheduler.equals("maglev") && maglevTableSize < (long)Values.MAGLEV_SLOTS_PER_BACKEND * backends.size())
            {
                final Origin blamed = maglevTableSizeOrigin != null ? maglevTableSizeOrigin :
                    schedulerOrigin != null ? schedulerOrigin : origin;
                throw new ConfigException(blamed, "maglev-table-size", maglevTableSize + " slots cannot hold " +
                    backends.size() + " backends (at least " + Values.MAGLEV_SLOTS_PER_BACKEND + " slots per backend)");
            }

            return new ServiceConfig(
                name, address.vip(), address.port(), address.protocol(), scheduler, maglevTableSize, built, mode, tcpCheck());
        }

        /** The check, or null; an option without {@code check tcp}, or a UDP service's own port, is an error. */
        private TcpCheckConfig tcpCheck()
        {
            if (!check)
            {
                if (!checkOptions.isEmpty())
                {
                    final Map.Entry<String, Origin> stray = checkOptions.entrySet().iterator().next();
                    throw new ConfigException(stray.getValue(), stray.getKey(), "needs 'check tcp' in service '" + name + "'");
                }
                return null;
            }
            if (address.protocol() == Protocol.UDP && checkPort == TcpCheckConfig.BACKEND_PORT)
            {
                throw new ConfigException(checkOrigin, "check", "service '" + name + "' is udp: give check-port, " +
                    "the TCP port to check");
            }
            return new TcpCheckConfig(checkPort, checkInterval, checkTimeout, checkRise, checkFall);
        }

        /**
         * Backends are reached on the server-side LAN in every mode (their MACs come from ARP).
         * DSR delivers the client's packet unchanged, so it cannot map ports, and needs the LAN
         * to be known so that a backend elsewhere is an error here, not a silent black hole.
         */
        private void checkBackendForMode(final BackendDraft backend, final String endpoint, final int port)
        {
            final int ip = backend.address().ip();
            final boolean ipv6 = IpAddresses.isIpv6(ip);
            final Setting<?> lanSetting = ipv6 ? serverNetwork6 : serverNetwork;
            final Object lan = lanSetting.value;
            if (mode == ForwardingMode.DSR && lan == null)
            {
                throw new ConfigException(modeOrigin != null ? modeOrigin : origin, "mode",
                    "dsr needs the server-side LAN: add '" + lanSetting.directive + " PREFIX' (e.g. " +
                    (ipv6 ? "2001:2:0:1::/64" : "198.18.1.0/24") + ") above the services");
            }
            if (lan != null && !(ipv6 ? serverNetwork6.value.contains(ip) : serverNetwork.value.contains(ip)))
            {
                throw new ConfigException(backend.origin(), "backend", IpAddresses.format(ip) +
                    " is not on the server-side LAN " + lan + " (" + lanSetting.directive + ", " +
                    lanSetting.origin.referenceFrom(backend.origin()) + "): lb reaches backends on that LAN only");
            }
            if (mode == ForwardingMode.DSR && port != address.port())
            {
                throw new ConfigException(backend.origin(), "backend", endpoint + ": a dsr service cannot change the port " +
                    "(the backend gets the client's packet unchanged, to port " + address.port() + "); drop ':" + port +
                    "' or use mode nat");
            }
        }

        private void checkIpv6Service(final Ipv6Config ipv6)
        {
            final String refusal = ipv6.refusal(address.vip());
            if (refusal != null)
            {
                throw new ConfigException(origin, "service " + name, refusal);
            }
        }

        private void checkBackendFamily(final BackendDraft backend)
        {
            final String problem = Ipv6Config.familyProblem(name, address.vip(), backend.address().ip());
            if (problem != null)
            {
                throw new ConfigException(backend.origin(), "backend", problem);
            }
        }

        /** The VIP is none of lb's own addresses (one family's: {@code client} and {@code gateway} are IPv4 or IPv6 ones). */
        private void checkVipNotOwnAddress(final Setting<Integer> client, final Setting<Integer> gateway)
        {
            final int vip = address.vip();
            for (final Setting<Integer> own : List.of(client, gateway))
            {
                if (own.value != null && vip == own.value)
                {
                    throw new ConfigException(origin, "service " + name, "VIP " + IpAddresses.format(vip) + " is also the " +
                        own.directive + " (" + own.origin.referenceFrom(origin) + "); lb's own addresses must be distinct");
                }
            }
        }

        private void checkBackendNotOwnAddress(final BackendDraft backend, final Setting<Integer> client,
            final Setting<Integer> gateway)
        {
            final int ip = backend.address().ip();
            String own = null;
            for (final Setting<Integer> address : List.of(client, gateway))
            {
                if (own == null && address.value != null && ip == address.value)
                {
                    own = "the " + address.directive + " (" + address.origin.referenceFrom(backend.origin()) + ")";
                }
            }
            if (own == null)
            {
                final ServiceDraft service = serviceWithVip(ip);
                own = service == null ? null :
                    "the VIP of service '" + service.name + "' (" +
                    service.origin.referenceFrom(backend.origin()) + ")";
            }
            if (own != null)
            {
                throw new ConfigException(backend.origin(), "backend",
                    IpAddresses.format(ip) + " is lb's own address, " + own);
            }
        }

        private String key()
        {
            return IpAddresses.endpoint(address.vip(), address.port()) + "/" + address.protocol().configName();
        }
    }
}
