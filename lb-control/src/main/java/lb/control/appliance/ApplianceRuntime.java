package lb.control.appliance;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicReference;
import lb.control.config.BackendConfig;
import lb.control.config.IpAddresses;
import lb.control.config.Ipv4Prefix;
import lb.control.config.Ipv6Config;
import lb.control.config.Protocol;
import lb.control.config.RouteConfig;
import lb.control.config.ServiceConfig;
import lb.control.config.TcpCheckConfig;
import lb.control.config.Values;
import lb.control.config.Values.BackendAddress;
import lb.control.config.Values.ServiceAddress;
import lb.control.health.TcpChecker;
import lb.control.socket.CommandException;
import lb.control.socket.RuntimeApi;
import lb.dataplane.flow.FlowTable;
import lb.dataplane.packet.DropReason;
import lb.dataplane.pipeline.BackendStatsTable;
import lb.dataplane.pipeline.DataplaneCounters;
import lb.dataplane.pipeline.ForwardingMode;
import lb.dataplane.pipeline.Service;
import lb.dataplane.sched.AdminState;
import lb.dataplane.sched.MaglevScheduler;
import lb.dataplane.sched.SchedulerKind;
import lb.dataplane.spread.NextHopGroup;
import lb.dataplane.worker.Commands;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The runtime API of a running appliance, called on the control-socket thread only.
 *
 * <p>It reads what the workers publish (counters, {@link BackendStatsTable}s, the flow tables) and
 * never touches the workers' objects; every read adds up over the workers. A change is validated
 * here against the control side's model of the services, written to every worker's command ring,
 * and answered only once every worker has applied it (each worker counts every command it takes;
 * this waits, bounded, until each count passes its own), so "ok" means the change is in force.
 *
 * <p>Per-backend figures: the backend list and its configuration (address, weight, state,
 * health) come from worker 0's table, which holds the same backends as every other worker's;
 * active and new flows, packets and bytes are summed over the workers' tables, matched by address
 * and port (a backend's pool slot may differ between workers).
 */
final class ApplianceRuntime implements RuntimeApi
{
    static final Duration APPLY_TIMEOUT = Duration.ofSeconds(2);

    /** The control side's view of one service: what the worker cannot tell (its name, scheduler). */
    record ServiceEntry(int id, String name, int vip, int port, Protocol protocol, String scheduler, int ref, ForwardingMode mode,
        TcpCheckConfig check)
    {
    }

    /** Probe round-trip times of one address: the control thread records, this thread reads. */
    static final class ProbeRtt
    {
        final SingleWriterRecorder recorder = new SingleWriterRecorder(1, 60_000_000_000L, 2);
        final Histogram total = new Histogram(1, 60_000_000_000L, 2);
        volatile long lastNanos = -1;

        void record(final long rttNanos)
        {
            recorder.recordValue(Math.max(1, Math.min(rttNanos, 60_000_000_000L)));
            lastNanos = rttNanos;
        }
    }

    private final String version;
    private final long startedNanos = System.nanoTime();
    private final List<ServiceEntry> services = new CopyOnWriteArrayList<>();
    private int serviceEpoch;
    /** Worker 0's table: the backend list and its configuration. */
    private final BackendStatsTable stats;
    private final List<DataplaneWorker> workers;
    private final CommandRings commands;
    private final AtomicReference<int[]> probedBackends;
    private final Map<Integer, ProbeRtt> probeRtts;
    private final Histogram packetLatencyTotal = new Histogram(1, 10_000_000_000L, 2);
    private final UnsafeBuffer message = new UnsafeBuffer(new byte[256]);
    private final List<Runnable> serviceListeners = new CopyOnWriteArrayList<>();
    private Ipv4Prefix serverNetwork;
    private int clientIp;
    private int gatewayIp;
    private Ipv6Config ipv6 = Ipv6Config.NONE;
    private final Ipv6AliasSender aliases;
    private volatile VipAnnouncementPolicy announcement;
    private RouteServices routeServices;
    private TcpChecker checker;
    private AtomicReference<List<TcpChecker.Target>> checkTargets;

    ApplianceRuntime(final String version, final List<ServiceConfig> initial, final List<DataplaneWorker> workers,
        final CommandRings commands, final AtomicReference<int[]> probedBackends, final Map<Integer, ProbeRtt> probeRtts,
        final Ipv6AliasSender aliases)
    {
        this.aliases = aliases;
        this.version = version;
        this.workers = List.copyOf(workers);
        this.stats = workers.get(0).backendStats;
        this.commands = commands;
        this.probedBackends = probedBackends;
        this.probeRtts = probeRtts;
        int id = 0;
        for (final ServiceConfig sc : initial)
        {
            services.add(new ServiceEntry(id, sc.name(), sc.vip(), sc.port(), sc.protocol(), sc.scheduler(), id, sc.mode(),
                sc.check()));
            id++;
        }
    }

    /**
     * The control thread's TCP checks (read for show stat and show info) and where this runtime
     * publishes the backends to check whenever they change.
     */
    void tcpChecks(final TcpChecker checker, final AtomicReference<List<TcpChecker.Target>> targets)
    {
        this.checker = checker;
        this.checkTargets = targets;
        probeAllBackends();
    }

    @Override
    public TcpCheckCounters tcpCheckCounters()
    {
        final TcpChecker c = checker;
        return c == null ? TcpCheckCounters.NONE : new TcpCheckCounters(c.synsSent(), c.synAcks(), c.rsts(), c.timeouts(),
            c.resetsSent(), c.staleReplies(), c.checks().length);
    }

    /** The server-side LAN backends added at runtime must be on, when the config names it. */
    void serverNetwork(final Ipv4Prefix network)
    {
        this.serverNetwork = network;
    }

    /** lb's own IPv4 addresses, which no backend added at runtime may be (the IPv6 ones come with {@link #ipv6}). */
    void ownAddresses(final int clientIp, final int gatewayIp)
    {
        this.clientIp = clientIp;
        this.gatewayIp = gatewayIp;
    }

    /** lb's IPv6 addresses and LAN, which IPv6 services and backends added at runtime need. */
    void ipv6(final Ipv6Config config)
    {
        this.ipv6 = config;
    }

    /** The route services; changes to them go through this runtime's command rings. */
    void routeServices(final RouteServices routes)
    {
        this.routeServices = routes;
        routes.sender((type, buffer, length) -> send(type, buffer, length));
    }

    @Override
    public List<RouteStats> routes()
    {
        return routeServices.stats();
    }

    @Override
    public void addRoute(final RouteConfig route)
    {
        routeServices.add(route, services.stream().map(ServiceEntry::vip).toList());
        probeAllBackends();
    }

    @Override
    public void delRoute(final String name)
    {
        routeServices.delete(name);
        probeAllBackends();
    }

    @Override
    public void addNextHop(final String route, final int ip)
    {
        routeServices.addNextHop(route, ip);
        probeAllBackends();
    }

    @Override
    public void delNextHop(final String route, final int ip)
    {
        routeServices.delNextHop(route, ip);
        probeAllBackends();
    }

    /** What lb announces over BGP, when its config has a session. */
    void announcement(final VipAnnouncementPolicy policy)
    {
        this.announcement = policy;
    }

    @Override
    public Announcements announcements()
    {
        final VipAnnouncementPolicy policy = announcement;
        return policy == null ? Announcements.NONE : policy.view();
    }

    @Override
    public void setAnnounce(final boolean on)
    {
        final VipAnnouncementPolicy policy = announcement;
        if (policy == null)
        {
            RuntimeApi.super.setAnnounce(on);
            return;
        }
        policy.enabled(on);
    }

    /** Runs after every service added or removed (on the control socket's thread). */
    void onServicesChanged(final Runnable listener)
    {
        serviceListeners.add(listener);
    }

    /**
     * Per VIP: true when some service on it has a backend that can take new flows (healthy,
     * ready, weight above 0, MAC known), as worker 0 last published. Any thread.
     */
    Map<Integer, Boolean> vipsWithUsableBackends()
    {
        final Map<Integer, Boolean> usable = new LinkedHashMap<>();
        for (final ServiceEntry s : services)
        {
            boolean any = false;
            for (int slot = 0; slot < BackendStatsTable.MAX_BACKENDS && !any; slot++)
            {
                any = stats.handle(s.id(), slot) != 0 && stats.healthy(s.id(), slot) && stats.checkPassing(s.id(), slot) &&
                    stats.weight(s.id(), slot) > 0 &&
                    stats.adminState(s.id(), slot) == AdminState.READY && stats.mac(s.id(), slot) != 0;
            }
            usable.merge(s.vip(), any, Boolean::logicalOr);
        }
        return usable;
    }

    /** The VIPs of the services now defined, each once. */
    Set<Integer> vips()
    {
        final Set<Integer> vips = new LinkedHashSet<>();
        for (final ServiceEntry s : services)
        {
            vips.add(s.vip());
        }
        return vips;
    }

    static ProbeRtt probeRtt(final Map<Integer, ProbeRtt> map, final int ip)
    {
        return map.computeIfAbsent(ip, k -> new ProbeRtt());
    }

    // ---- reading ------------------------------------------------------------------------------

    @Override
    public Info info()
    {
        long rxFrames = 0;
        long rxBytes = 0;
        long txFrames = 0;
        long txBytes = 0;
        long drops = 0;
        long flowsUsed = 0;
        long flowCapacity = 0;
        long busyNanos = 0;
        long txKickNanos = 0;
        long busyCycles = 0;
        long sleeps = 0;
        long recovered = 0;
        long icmpErrorsToServer = 0;
        long icmpErrorsToClient = 0;
        long flows6 = 0;
        long flowCapacity6 = 0;
        for (final DataplaneWorker w : workers)
        {
            final DataplaneCounters c = w.counters;
            rxFrames += c.rxClientFrames.get() + c.rxServerFrames.get();
            rxBytes += c.rxClientBytes.get() + c.rxServerBytes.get();
            txFrames += c.txClientFrames.get() + c.txServerFrames.get();
            txBytes += c.txClientBytes.get() + c.txServerBytes.get();
            drops += c.totalDrops();
            busyNanos += c.busyNanos.get();
            txKickNanos += c.txKickNanos.get();
            busyCycles += c.busyCycles.get();
            sleeps += c.sleeps.get();
            recovered += c.flowsRecovered.get();
            icmpErrorsToServer += c.icmpErrorsForwardedToServer.get();
            icmpErrorsToClient += c.icmpErrorsForwardedToClient.get();
            flowsUsed += w.pipeline == null ? 0 : w.pipeline.flowCount();
            flowCapacity += w.flows.capacity() / 2;
            if (w.flows6 != null)
            {
                flows6 += w.pipeline == null ? 0 : w.pipeline.flowCount6();
                flowCapacity6 += w.flows6.capacity() / 2;
            }
        }
        return new Info(version, Duration.ofNanos(System.nanoTime() - startedNanos), workers.size(), rxFrames, rxBytes,
            txFrames, txBytes, drops, flowsUsed, flowCapacity + flowCapacity6, busyNanos, txKickNanos, busyCycles,
            sleeps, recovered, icmpErrorsToServer, icmpErrorsToClient, flows6, flowCapacity6);
    }

    /** A backend's slot in one worker's table (by address and port), or -1. */
    private static int slotIn(final BackendStatsTable table, final int serviceId, final int ip, final int port, final int hint)
    {
        if (table.handle(serviceId, hint) != 0 && table.ip(serviceId, hint) == ip && table.port(serviceId, hint) == port)
        {
            return hint;
        }
        for (int slot = 0; slot < BackendStatsTable.MAX_BACKENDS; slot++)
        {
            if (table.handle(serviceId, slot) != 0 && table.ip(serviceId, slot) == ip && table.port(serviceId, slot) == port)
            {
                return slot;
            }
        }
        return -1;
    }

    @Override
    public Stats stats()
    {
        final List<ServiceStats> result = new ArrayList<>();
        for (final ServiceEntry s : services)
        {
            final List<BackendStats> backends = new ArrayList<>();
            long active = 0;
            long created = 0;
            long packets = 0;
            long bytes = 0;
            for (int slot = 0; slot < BackendStatsTable.MAX_BACKENDS; slot++)
            {
                if (stats.handle(s.id(), slot) == 0)
                {
                    continue;
                }
                final int ip = stats.ip(s.id(), slot);
                final boolean healthy = stats.healthy(s.id(), slot);
                final Health health = !healthy ? Health.DOWN : stats.mac(s.id(), slot) == 0 ? Health.UNKNOWN : Health.UP;
                final ProbeRtt rtt = probeRtts.get(ip);
                final int storedPort = stats.port(s.id(), slot);
                final int port = storedPort == BackendConfig.SAME_PORT ? s.port() : storedPort;
                long backendActive = 0;
                long backendNew = 0;
                long backendPackets = 0;
                long backendBytes = 0;
                for (final DataplaneWorker w : workers)
                {
                    final BackendStatsTable table = w.backendStats;
                    final int at = slotIn(table, s.id(), ip, storedPort, slot);
                    if (at >= 0)
                    {
                        backendActive += table.activeFlows(s.id(), at);
                        backendNew += table.newFlows(s.id(), at);
                        backendPackets += table.packets(s.id(), at);
                        backendBytes += table.bytes(s.id(), at);
                    }
                }
                final BackendStats b = new BackendStats(ip, port, stats.adminState(s.id(), slot), health,
                    stats.weight(s.id(), slot), backendActive, backendNew, backendPackets, backendBytes,
                    rtt == null ? -1 : rtt.lastNanos, checkStatus(s.id(), ip, port));
                backends.add(b);
                active += b.activeFlows();
                created += b.newFlows();
                packets += b.packets();
                bytes += b.bytes();
            }
            result.add(new ServiceStats(s.name(), s.vip(), s.port(), s.protocol(), s.scheduler(), active, created, packets,
                bytes, backends));
        }
        return new Stats(System.nanoTime(), result);
    }

    @Override
    public List<WorkerTraffic> workerTraffic()
    {
        final List<WorkerTraffic> result = new ArrayList<>();
        for (int i = 0; i < workers.size(); i++)
        {
            final DataplaneCounters c = workers.get(i).counters;
            // Outcomes first, rx last: a frame in flight shows as unaccounted, never twice accounted.
            final long tx = c.txFrames();
            final long answered = c.answered();
            final long dropped = c.framesDropped();
            final long toControl = c.toControl();
            final long madeUp = c.madeUp();
            final long kernelDropped = c.drops(DropReason.RX_RING_OVERFLOW);
            result.add(new WorkerTraffic(i, c.rxFrames(), tx, answered, toControl, dropped, kernelDropped, madeUp));
        }
        return result;
    }

    @Override
    public List<DropCount> drops()
    {
        final List<DropCount> result = new ArrayList<>();
        for (final DropReason reason : DropReason.values())
        {
            long count = 0;
            for (final DataplaneWorker w : workers)
            {
                count += w.counters.drops(reason);
            }
            result.add(new DropCount(reason.metricName(), count, reason.description()));
        }
        return result;
    }

    /**
     * A sample of forward entries, read while the workers run: an entry being rewritten at that
     * moment may show fields of two flows. Good enough to look at; never used for decisions. With
     * several workers each contributes up to an even share of {@code max}, in worker order.
     */
    @Override
    public List<FlowSample> flows(final int max)
    {
        final List<FlowSample> result = new ArrayList<>();
        final int share = Math.max(1, (max + workers.size() - 1) / workers.size());
        for (final DataplaneWorker w : workers)
        {
            sampleFlows(w.flows, Math.min(max, result.size() + share), result);
        }
        return result;
    }

    private void sampleFlows(final FlowTable flows, final int upTo, final List<FlowSample> result)
    {
        final long now = System.nanoTime();
        for (int slot = flows.nextOccupied(0); slot != FlowTable.MISSING && result.size() < upTo;
            slot = flows.nextOccupied(slot + 1))
        {
            if (flows.isReturnDirection(slot))
            {
                continue;
            }
            final int protocolNumber = flows.protocol(slot);
            final Protocol protocol = protocolNumber == 17 ? Protocol.UDP : Protocol.TCP;
            final ServiceEntry service = byRef(flows.serviceId(slot));
            final int state = flows.tcpState(slot);
            final FlowState flowState = protocol == Protocol.UDP ? FlowState.UDP :
                state == FlowTable.TCP_SYN_SEEN ? FlowState.SYN :
                state == FlowTable.TCP_CLOSING ? FlowState.CLOSING : FlowState.ESTABLISHED;
            result.add(new FlowSample(protocol, flows.srcIp(slot), flows.srcPort(slot), flows.dstIp(slot), flows.dstPort(slot),
                service == null ? "?" : service.name(), flows.natIp(slot), flows.natPort(slot), flowState,
                Duration.ofNanos(Math.max(0, now - flows.lastSeen(slot))), flows.packets(slot), flows.bytes(slot)));
        }
    }

    @Override
    public Latency latency()
    {
        for (final DataplaneWorker w : workers)
        {
            packetLatencyTotal.add(w.packetLatency.getIntervalHistogram());
        }
        final List<BackendLatency> probes = new ArrayList<>();
        for (final ServiceStats s : stats().services())
        {
            for (final BackendStats b : s.backends())
            {
                final ProbeRtt rtt = probeRtts.get(b.ip());
                if (rtt != null)
                {
                    synchronized (rtt)
                    {
                        rtt.total.add(rtt.recorder.getIntervalHistogram());
                        probes.add(new BackendLatency(s.name(), b.ip(), b.port(), percentiles(rtt.total)));
                    }
                }
            }
        }
        return new Latency(percentiles(packetLatencyTotal), probes);
    }

    private static Percentiles percentiles(final Histogram h)
    {
        if (h.getTotalCount() == 0)
        {
            return Percentiles.EMPTY;
        }
        return new Percentiles(h.getTotalCount(), h.getValueAtPercentile(50), h.getValueAtPercentile(90),
            h.getValueAtPercentile(99), h.getValueAtPercentile(99.9), h.getMaxValue());
    }

    // ---- changing ----------------------------------------------------------------------------

    @Override
    public void setWeight(final String service, final BackendAddress backend, final int weight)
    {
        final ServiceEntry s = service(service);
        requireBackend(s, backend);
        final BackendAddress b = stored(s, backend);
        send(Commands.SET_WEIGHT, Commands.encodeBackend(message, 0, s.id(), b.ip(), b.port(), weight));
    }

    @Override
    public void setState(final String service, final BackendAddress backend, final AdminState state)
    {
        final ServiceEntry s = service(service);
        requireBackend(s, backend);
        final BackendAddress b = stored(s, backend);
        send(Commands.SET_ADMIN_STATE, Commands.encodeBackend(message, 0, s.id(), b.ip(), b.port(), state.ordinal()));
    }

    @Override
    public void addBackend(final String service, final BackendAddress backend, final int weight)
    {
        final ServiceEntry s = service(service);
        if (findBackend(s, backend) >= 0)
        {
            throw new CommandException("service '" + service + "' already has backend " + describe(backend));
        }
        final String family = Ipv6Config.familyProblem(s.name(), s.vip(), backend.ip());
        if (family != null)
        {
            throw new CommandException("backend " + family);
        }
        final String own = ownAddress(backend.ip());
        if (own != null)
        {
            throw new CommandException("backend " + IpAddresses.format(backend.ip()) + " is lb's own address, the " + own);
        }
        final boolean ipv6Backend = IpAddresses.isIpv6(backend.ip());
        final Object lan = ipv6Backend ? ipv6.serverNetwork6() : serverNetwork;
        if (lan != null && !(ipv6Backend ? ipv6.serverNetwork6().contains(backend.ip()) : serverNetwork.contains(backend.ip())))
        {
            throw new CommandException("backend " + describe(backend) + " is not on the server-side LAN " + lan);
        }
        if (s.mode() == ForwardingMode.DSR && backend.port() != BackendConfig.SAME_PORT && backend.port() != s.port())
        {
            throw new CommandException("backend " + describe(backend) + ": a dsr service cannot change the port (" +
                s.port() + ")");
        }
        send(Commands.ADD_BACKEND, Commands.encodeBackend(message, 0, s.id(), backend.ip(), backend.port(), weight));
        if (findBackend(s, backend) < 0)
        {
            throw new CommandException("service '" + service + "' has no room for another backend (at most " +
                BackendStatsTable.MAX_BACKENDS + ")");
        }
        probeAllBackends();
    }

    /**
     * What lb's own address {@code ip} is (as the config file names it), or null: a backend there would take
     * lb's own packets (in ipip, tunnels from lb to itself).
     */
    private String ownAddress(final int ip)
    {
        if (ip == clientIp)
        {
            return "client-ip";
        }
        if (ip == gatewayIp)
        {
            return "gateway-ip";
        }
        if (ip == ipv6.clientIp6())
        {
            return "client-ip6";
        }
        if (ip == ipv6.gatewayIp6())
        {
            return "gateway-ip6";
        }
        for (final ServiceEntry s : services)
        {
            if (s.vip() == ip)
            {
                return "VIP of service '" + s.name() + "'";
            }
        }
        return null;
    }

    @Override
    public void delBackend(final String service, final BackendAddress backend)
    {
        final ServiceEntry s = service(service);
        requireBackend(s, backend);
        final BackendAddress b = stored(s, backend);
        send(Commands.DEL_BACKEND, Commands.encodeBackend(message, 0, s.id(), b.ip(), b.port(), 0));
        probeAllBackends();
    }

    @Override
    public void addService(final String name, final ServiceAddress address, final String scheduler)
    {
        addService(name, address, scheduler, ForwardingMode.NAT);
    }

    @Override
    public void addService(final String name, final ServiceAddress address, final String scheduler,
        final ForwardingMode mode)
    {
        addService(name, address, scheduler, mode, null);
    }

    @Override
    public void addService(final String name, final ServiceAddress address, final String scheduler,
        final ForwardingMode mode, final TcpCheckConfig check)
    {
        final String refusal = ipv6.refusal(address.vip());
        if (refusal != null)
        {
            throw new CommandException(refusal);
        }
        final boolean ipv6Vip = IpAddresses.isIpv6(address.vip());
        if (mode == ForwardingMode.DSR && (ipv6Vip ? ipv6.serverNetwork6() == null : serverNetwork == null))
        {
            throw new CommandException("mode dsr needs the server-side LAN: start lb with " +
                (ipv6Vip ? "server-network6 (--server-network6)" : "server-network (--server-network)"));
        }
        for (final ServiceEntry s : services)
        {
            if (s.name().equals(name))
            {
                throw new CommandException("service '" + name + "' exists already");
            }
            if (s.vip() == address.vip() && s.port() == address.port() && s.protocol() == address.protocol())
            {
                throw new CommandException("service '" + s.name() + "' already listens on " +
                    IpAddresses.endpoint(address.vip(), address.port()) + "/" + address.protocol().configName());
            }
        }
        final SchedulerKind kind;
        try
        {
            kind = SchedulerKind.parse(scheduler);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new CommandException(ex.getMessage());
        }
        final String route = routeServices.holding(address.vip());
        if (route != null)
        {
            throw new CommandException(IpAddresses.format(address.vip()) + " is inside route '" + route +
                "': a VIP cannot be routed through");
        }
        final int id = freeId();
        if (name.length() > 64)
        {
            throw new CommandException("service name longer than 64 characters");
        }
        // A new epoch every time, so flows of an earlier service with this id never find this one.
        final int ref = (++serviceEpoch << Service.ID_BITS) | id;
        send(Commands.ADD_SERVICE, Commands.encodeService(message, 0, ref, address.vip(), address.port(),
            address.protocol().ipProtocolNumber(), kind.ordinal(), MaglevScheduler.DEFAULT_TABLE_SIZE, mode.ordinal(), name));
        services.add(new ServiceEntry(id, name, address.vip(), address.port(), address.protocol(), kind.userName(), ref, mode,
            check));
        serviceListeners.forEach(l -> l.run());
    }

    @Override
    public void delService(final String name)
    {
        final ServiceEntry s = service(name);
        message.putInt(Commands.SERVICE_ID_OFFSET, s.id());
        send(Commands.DEL_SERVICE, 4);
        services.remove(s);
        serviceListeners.forEach(l -> l.run());
        probeAllBackends();
    }

    /**
     * Sends the command to every worker and waits until each has taken it. A command some workers
     * reject and others apply (their pools differ: a deleted backend still carries flows in some)
     * is reported as an error naming how many rejected it.
     */
    private void send(final int type, final int length)
    {
        send(type, message, length);
    }

    private void send(final int type, final DirectBuffer buffer, final int length)
    {
        final long rejectedBefore = commands.rejected();
        final long[] target = aliases.sendNew(commands) ? commands.write(type, buffer, 0, length) : null;
        if (target == null)
        {
            throw new CommandException("a worker's command ring is full; try again");
        }
        final long deadline = System.nanoTime() + APPLY_TIMEOUT.toNanos();
        while (!commands.taken(target))
        {
            if (System.nanoTime() > deadline)
            {
                throw new CommandException("the workers have not applied the change within " + APPLY_TIMEOUT.toMillis() + " ms");
            }
            Thread.onSpinWait();
            Thread.yield();
        }
        final long rejected = commands.rejected() - rejectedBefore;
        if (rejected >= commands.workers())
        {
            throw new CommandException("the dataplane refused the change (counted in commands_rejected)");
        }
        if (rejected > 0)
        {
            throw new CommandException("the change was rejected by " + rejected + " of " + commands.workers() +
                " workers and applied by the others");
        }
    }

    /** Tells the control thread which addresses to probe: every backend of every service. */
    private CheckStatus checkStatus(final int serviceId, final int ip, final int port)
    {
        final TcpChecker.Check c = checker == null ? null : checker.check(serviceId, ip, port);
        return c == null ? null : new CheckStatus(c.passing(), c.inARow(), c.toward(), c.last().label(), c.target().checkPort());
    }

    /** Publishes the addresses to probe by ARP and the backends to check over TCP, from worker 0's table. */
    private void probeAllBackends()
    {
        final Set<Integer> ips = new LinkedHashSet<>();
        final List<TcpChecker.Target> targets = new ArrayList<>();
        for (final ServiceEntry s : services)
        {
            for (int slot = 0; slot < BackendStatsTable.MAX_BACKENDS; slot++)
            {
                if (stats.handle(s.id(), slot) != 0)
                {
                    final int ip = stats.ip(s.id(), slot);
                    ips.add(ip);
                    if (s.check() != null)
                    {
                        final int poolPort = stats.port(s.id(), slot);
                        targets.add(new TcpChecker.Target(s.id(), s.name(), ip,
                            poolPort == BackendConfig.SAME_PORT ? s.port() : poolPort, poolPort, s.check()));
                    }
                }
            }
        }
        ips.addAll(routeServices.nextHops());
        probedBackends.set(ips.stream().mapToInt(Integer::intValue).toArray());
        if (checkTargets != null)
        {
            checkTargets.set(List.copyOf(targets));
        }
    }

    private ServiceEntry service(final String name)
    {
        for (final ServiceEntry s : services)
        {
            if (s.name().equals(name))
            {
                return s;
            }
        }
        throw new CommandException("no service '" + name + "'");
    }

    private ServiceEntry byRef(final int ref)
    {
        for (final ServiceEntry s : services)
        {
            if (s.ref() == ref)
            {
                return s;
            }
        }
        return null;
    }

    private ServiceEntry byId(final int id)
    {
        for (final ServiceEntry s : services)
        {
            if (s.id() == id)
            {
                return s;
            }
        }
        return null;
    }

    private int freeId()
    {
        for (int id = 0; id < BackendStatsTable.MAX_SERVICES; id++)
        {
            if (byId(id) == null)
            {
                return id;
            }
        }
        throw new CommandException("at most " + BackendStatsTable.MAX_SERVICES + " services");
    }

    /** The backend's slot, or -1. A port of 0 and the service's own port name the same backend. */
    private int findBackend(final ServiceEntry s, final BackendAddress backend)
    {
        for (int slot = 0; slot < BackendStatsTable.MAX_BACKENDS; slot++)
        {
            if (stats.handle(s.id(), slot) != 0 && stats.ip(s.id(), slot) == backend.ip() &&
                effectivePort(s, stats.port(s.id(), slot)) == effectivePort(s, backend.port()))
            {
                return slot;
            }
        }
        return -1;
    }

    private static int effectivePort(final ServiceEntry s, final int port)
    {
        return port == BackendConfig.SAME_PORT ? s.port() : port;
    }

    /** The address the worker's pool knows the backend by (as it was added). */
    private BackendAddress stored(final ServiceEntry s, final BackendAddress backend)
    {
        final int slot = findBackend(s, backend);
        return new BackendAddress(backend.ip(), slot < 0 ? backend.port() : stats.port(s.id(), slot));
    }

    private void requireBackend(final ServiceEntry s, final BackendAddress backend)
    {
        if (findBackend(s, backend) < 0)
        {
            throw new CommandException("service '" + s.name() + "' has no backend " + describe(backend));
        }
    }

    private static String describe(final BackendAddress backend)
    {
        return Values.formatBackend(backend.ip(), backend.port());
    }

    /** For the summary printed at exit. */
    List<ServiceEntry> services()
    {
        return List.copyOf(services);
    }

    static Map<Integer, ProbeRtt> newProbeRttMap()
    {
        return new ConcurrentHashMap<>();
    }
}
