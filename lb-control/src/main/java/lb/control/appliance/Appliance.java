package lb.control.appliance;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;
import lb.control.Log;
import lb.control.config.BackendConfig;
import lb.control.config.ConfigDefaults;
import lb.control.config.IdleStrategyKind;
import lb.control.config.IpAddresses;
import lb.control.config.LbConfig;
import lb.control.config.RingVersion;
import lb.control.config.ServiceConfig;
import lb.control.config.Values;
import lb.control.health.TcpChecker;
import lb.control.socket.CommandDispatcher;
import lb.control.socket.ControlServer;
import lb.control.socket.ControlSocketOptions;
import lb.control.socket.RuntimeApi;
import lb.control.socket.RuntimeCommands;
import lb.dataplane.flow.FlowTable;
import lb.dataplane.io.CpuAffinity;
import lb.dataplane.io.FanoutProgram;
import lb.dataplane.io.InterfaceInfo;
import lb.dataplane.io.PacketConstants;
import lb.dataplane.io.PacketIoException;
import lb.dataplane.io.PacketSocket;
import lb.dataplane.io.RawSender;
import lb.dataplane.io.RingConfig;
import lb.dataplane.packet.ArpPacket;
import lb.dataplane.pipeline.DataplaneCounters;
import lb.dataplane.pipeline.FrameSink;
import lb.dataplane.pipeline.PacketPipeline;
import lb.dataplane.pipeline.Service;
import lb.dataplane.sched.BackendPool;
import lb.dataplane.sched.SchedulerKind;
import lb.dataplane.worker.CommandApplier;
import lb.dataplane.worker.Commands;
import lb.dataplane.worker.DataplaneAgent;
import lb.dataplane.worker.PollIdleStrategy;
import lb.dataplane.worker.RxFrameContext;
import lb.dataplane.worker.SocketSink;
import org.agrona.CloseHelper;
import org.agrona.concurrent.AgentRunner;
import org.agrona.concurrent.BackoffIdleStrategy;
import org.agrona.concurrent.BusySpinIdleStrategy;
import org.agrona.concurrent.IdleStrategy;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.YieldingIdleStrategy;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
import org.agrona.concurrent.status.AtomicCounter;
import org.agrona.concurrent.status.CountersManager;
import org.agrona.concurrent.status.CountersReader;

/**
 * The running appliance: {@code workers} dataplane worker threads and one control thread, built
 * from a validated {@link LbConfig}.
 *
 * <p>Each worker owns a packet socket on each interface, its own flow table, services with backend
 * pools and schedulers, and counters ({@link DataplaneWorker}). With several workers the sockets of
 * each interface form one PACKET_FANOUT_CBPF group whose {@link FanoutProgram} hashes the client's
 * endpoint (the source on the client side, the destination on the server side), so both
 * directions of a flow reach the same worker; ARP, ICMP and anything else go to worker 0. The
 * control thread owns the ARP probes. They talk through rings: commands (control to every worker,
 * {@link CommandRings}) and events (worker 0 to control: ARP frames seen on the server side). The
 * counters live in one Agrona {@link CountersManager} that any thread may read while the workers
 * write.
 */
public final class Appliance implements AutoCloseable
{
    /** How long lb forwards on after withdrawing its VIPs at stop, for packets already on their way. */
    static final long WITHDRAW_GRACE_MILLIS = 300;
    static final int RING_BYTES = (1 << 20) + RingBufferDescriptor.TRAILER_LENGTH;
    /** Counter slots reserved per worker: more than {@link DataplaneCounters} allocates. */
    private static final int COUNTERS_PER_WORKER = 128;

    private final LbConfig config;
    private final CountersManager countersManager;
    private final List<DataplaneWorker> workers = new ArrayList<>();
    private final CommandRings commands;
    /**
     * Workers to control: ARP frames from the server side (worker 0) and the backends' answers to
     * TCP checks (whichever worker the steering hash picks), so one ring with many producers.
     */
    private final ManyToOneRingBuffer events = 
        new ManyToOneRingBuffer(new UnsafeBuffer(ByteBuffer.allocateDirect(RING_BYTES)));
    private final Map<Integer, ApplianceRuntime.ProbeRtt> probeRtts = ApplianceRuntime.newProbeRttMap();
    private final AtomicReference<int[]> probedBackends = new AtomicReference<>();
    private final AtomicReference<List<TcpChecker.Target>> checkTargets = new AtomicReference<>(List.of());
    private final Ipv6AliasSender aliases = new Ipv6AliasSender();
    private ApplianceRuntime runtime;
    private RouteServices routeServices;
    private ControlServer controlServer;
    private final List<AutoCloseable> resources = new ArrayList<>();
    private ControlAgent control;
    private final List<AgentRunner> dataplaneRunners = new ArrayList<>();
    private AgentRunner controlRunner;
    private VipAnnouncementPolicy announcement;
    private final long startedAtMillis = System.currentTimeMillis();

    private Appliance(final LbConfig config)
    {
        this.config = config;
        final int values = Math.max(1 << 16, config.workers() * COUNTERS_PER_WORKER * CountersReader.COUNTER_LENGTH);
        this.countersManager = new CountersManager(
            new UnsafeBuffer(ByteBuffer.allocateDirect(values * (CountersReader.METADATA_LENGTH / CountersReader.COUNTER_LENGTH))),
            new UnsafeBuffer(ByteBuffer.allocateDirect(values)));
        final int flowsPerWorker = DataplaneWorker.flowCapacity(config.flowCapacity(), config.workers());
        // The IPv6 table only when lb has an IPv6 address: without one every IPv6 service is refused.
        final int entries6PerWorker = config.ipv6().enabled() ?
            DataplaneWorker.flowCapacity(config.ipv6().flowTableSize6(), config.workers()) : 0;
        final var t = config.timeouts();
        for (int i = 0; i < config.workers(); i++)
        {
            final DataplaneWorker worker = new DataplaneWorker(i, countersManager, flowsPerWorker, entries6PerWorker);
            for (final FlowTable table : new FlowTable[] {worker.flows, worker.flows6})
            {
                if (table != null)
                {
                    table.setTimeouts(t.tcpSyn().toNanos(), t.tcpEstablished().toNanos(), t.tcpClosing().toNanos(),
                        t.udp().toNanos());
                }
            }
            workers.add(worker);
        }
        this.commands = new CommandRings(workers);
    }

    /**
     * Opens the interfaces and starts the threads.
     *
     * @throws PacketIoException with a one-line message naming the interface
     */
    public static Appliance start(final LbConfig config)
    {
        final Appliance appliance = new Appliance(config);
        try
        {
            appliance.open();
            return appliance;
        }
        catch (final RuntimeException ex)
        {
            appliance.close();
            throw ex;
        }
    }

    private void open()
    {
        final int n = config.workers();
        // Fanout group ids are per network namespace: derived from the pid, unique among the lb
        // processes of one namespace (two pids 32768 apart would collide; the join then fails).
        final int clientGroup = (int)((ProcessHandle.current().pid() * 2) & 0xFFFF);
        final int serverGroup = clientGroup + 1;
        final RingConfig clientRing = ringConfig(config, clientGroup, FanoutProgram.Side.CLIENT);
        final RingConfig serverRing = ringConfig(config, serverGroup, FanoutProgram.Side.SERVER);
        // Sockets join their group in worker order: the program's result i is worker i's socket.
        final PacketSocket[] clientSockets = new PacketSocket[n];
        final PacketSocket[] serverSockets = new PacketSocket[n];
        for (int i = 0; i < n; i++)
        {
            clientSockets[i] = keep(PacketSocket.open(config.clientInterface(), clientRing));
            serverSockets[i] = keep(PacketSocket.open(config.serverInterface(), serverRing));
        }
        final RawSender clientSender = keep(RawSender.open(config.clientInterface()));
        final RawSender serverSender = keep(RawSender.open(config.serverInterface()));
        final long clientMac = clientSockets[0].interfaceInfo().mac();
        final long serverMac = serverSockets[0].interfaceInfo().mac();
        if (config.rxRing().frameSize() != Integer.parseInt(ConfigDefaults.RX_FRAME_SIZE) ||
            config.rxRing().frameCount() != Integer.parseInt(ConfigDefaults.RX_FRAME_COUNT))
        {
            Log.info("rx-ring frame-size/frame-count are not used: GSO forwarding needs " + clientRing.rxFrameSize() +
                "-byte slots, " + clientRing.rxFrameCount() + " per ring");
        }
        Log.info("client side " + config.clientInterface() + " " + InterfaceInfo.formatMac(clientMac) + " " +
            IpAddresses.format(config.clientIp()) + ipv6Address(config.ipv6().clientIp6()) +
            ", server side " + config.serverInterface() + " " + InterfaceInfo.formatMac(serverMac) + " " +
            IpAddresses.format(config.gatewayIp()) + ipv6Address(config.ipv6().gatewayIp6()) +
            ", rings " + clientRing + (n > 1 ? ", server-side fanout group " + serverGroup : ""));

        for (final ServiceConfig sc : config.services())
        {
            Log.info("service " + sc);
        }
        // Before the services and anything else that names an alias: the workers read their rings in order.
        if (!aliases.sendNew(commands))
        {
            throw new IllegalStateException("the command rings cannot hold the " + IpAddresses.count6() + " IPv6 addresses");
        }
        for (final DataplaneWorker w : workers)
        {
            int id = 0;
            for (final ServiceConfig sc : config.services())
            {
                w.services.add(buildService(w, id++, sc));
            }
        }
        routeServices = new RouteServices(workers, config.timeouts(), config.clientIp(), config.gatewayIp(),
            config.serverNetwork(), config.ipv6());
        routeServices.installInitial(config.routes());
        probedBackends.set(backendIps());

        checkWorkerCpus(config.workerCpus());
        final List<DataplaneAgent> agents = new ArrayList<>();
        for (final DataplaneWorker w : workers)
        {
            final PacketSocket clientSocket = clientSockets[w.index];
            final PacketSocket serverSocket = serverSockets[w.index];
            final RxFrameContext rx = new RxFrameContext();
            // All ARP reaches worker 0; a TCP check's answer reaches the worker its port hashes to.
            final FrameSink toControl = (buffer, offset, length) -> events.write(Commands.SERVER_FRAME, buffer, offset, length);
            w.pipeline = new PacketPipeline(w.services, w.flows, w.counters, w.backendStats, new SocketSink(clientSocket, rx),
                new SocketSink(serverSocket, rx), toControl, clientMac, serverMac, config.clientIp(), config.gatewayIp())
                .serverMtu(serverSocket.interfaceInfo().mtu())
                .routes(w.routes);
            final CommandApplier applier =
                new CommandApplier(w.services, w.flows, w.backendStats, w.counters.commandsApplied, w.counters.commandsRejected)
                    .routes(w.routes);
            if (w.flows6 != null)
            {
                // The applier fills the alias table (ADD_ADDRESS6), the pipeline only reads it.
                w.pipeline.ipv6(w.flows6, applier.aliases(), config.ipv6().clientIp6(), config.ipv6().gatewayIp6());
                applier.flows6(w.flows6);
            }
            agents.add(new DataplaneAgent(w.name, w.pipeline, clientSocket, serverSocket, w.commands, rx, w.counters, applier,
                w.packetLatency).pinTo(config.workerCpus().isEmpty() ? -1 : config.workerCpus().get(w.index)));
            dataplaneRunners.add(new AgentRunner(idleStrategy(config, w.counters.sleeps, clientSocket, serverSocket),
                ex -> Log.info(w.name + " error: " + ex), null, agents.get(w.index)));
        }

        control = new ControlAgent(events, commands, serverSender, serverMac, config.gatewayIp(), config.ipv6().gatewayIp6(),
            probedBackends, probeRtts, config.probe(), checkTargets);
        runtime = new ApplianceRuntime(version(), config.services(), workers, commands, probedBackends, probeRtts, aliases);
        runtime.serverNetwork(config.serverNetwork());
        runtime.ownAddresses(config.clientIp(), config.gatewayIp());
        runtime.ipv6(config.ipv6());
        runtime.routeServices(routeServices);
        runtime.tcpChecks(control.checker(), checkTargets);
        if (config.bgp() != null)
        {
            announcement = new VipAnnouncementPolicy(config.bgp(), runtime);
            runtime.announcement(announcement);
        }

        // The control socket first: a second lb on the same socket path stops here, before its
        // workers forward a single frame or its gratuitous ARP confuses the clients.
        try
        {
            controlServer = ControlServer.start(ControlSocketOptions.at(config.controlSocket()),
                RuntimeCommands.register(new CommandDispatcher(Log::info), runtime), Log::info);
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("control socket " + config.controlSocket() + ": " + ex.getMessage(), ex);
        }
        announce(clientSender, clientMac);
        controlRunner = new AgentRunner(new BackoffIdleStrategy(1, 1, 100_000, 1_000_000),
            ex -> Log.info("control error: " + ex), null, control);
        for (final AgentRunner runner : dataplaneRunners)
        {
            AgentRunner.startOnThread(runner);
        }
        AgentRunner.startOnThread(controlRunner);
        if (announcement != null)
        {
            announcement.start();
        }
        Log.info("control socket " + controlServer.path() + " (mode 0600): try 'bin/lbctl show stat'");
        long flowBytes = 0;
        long flowBytes6 = 0;
        for (final DataplaneWorker w : workers)
        {
            flowBytes += w.flows.memoryBytes();
            flowBytes6 += w.flows6 == null ? 0 : w.flows6.memoryBytes();
        }
        Log.info("running: " + workers.get(0).services.count() + " service(s), " + n + " worker(s), flow capacity " +
            config.flowCapacity() + (n > 1 ? " (" + DataplaneWorker.flowCapacity(config.flowCapacity(), n) + " per worker)" : "") +
            " (" + flowBytes / (1 << 20) + " MiB, huge pages advised)" +
            (flowBytes6 == 0 ? "" : ", IPv6 flow table " + config.ipv6().flowTableSize6() + " entries (" + flowBytes6 / (1 << 20) + " MiB)") +
            (config.workerCpus().isEmpty() ? "" : ", workers pinned to CPUs " + Values.formatWorkerCpus(config.workerCpus())) +
            ", idle strategy " + config.idleStrategy().configName() +
            (config.idleStrategy() == IdleStrategyKind.BACKOFF ? " (spin " + Values.formatIdleSpin(config.idleSpin()) + ")" : ""));
    }

    /** Refuses at start, in one line, a worker CPU this process may not run on (taskset, cpuset). */
    private static void checkWorkerCpus(final List<Integer> cpus)
    {
        final BitSet allowed = CpuAffinity.currentThreadCpus();
        for (final int cpu : cpus)
        {
            if (!allowed.get(cpu))
            {
                throw new IllegalArgumentException("worker-cpus: CPU " + cpu + " is not available to lb (allowed: " +
                    CpuAffinity.format(allowed) + ")");
            }
        }
    }

    /**
     * The ring settings of one side's sockets: with several workers they join that side's
     * PACKET_FANOUT_CBPF group with its steering program and PACKET_FANOUT_FLAG_IGNORE_OUTGOING
     * (the socket adds it: a fanout member ignores PACKET_IGNORE_OUTGOING).
     */
    static RingConfig ringConfig(final LbConfig config, final int fanoutGroup, final FanoutProgram.Side side)
    {
        final RingConfig.Builder b = ringBuilder(config);
        if (config.workers() > 1)
        {
            b.fanout(fanoutGroup, PacketConstants.PACKET_FANOUT_CBPF, 0)
                .fanoutProgram(FanoutProgram.of(side, config.workers()));
        }
        return b.build();
    }

    static RingConfig.Builder ringBuilder(final LbConfig config)
    {
        return RingConfig.builder()
            .version(config.rxRing().version() == RingVersion.V3 ? RingConfig.Version.V3 : RingConfig.Version.V2)
            // Virtio-net headers let lb forward GSO super-frames and offloaded checksums as they are.
            .vnetHeader(true)
            // The qdisc-bypass path (dev_direct_xmit) drops every frame the kernel must segment or
            // checksum for a device without those offloads: GSO frames need the normal path.
            .qdiscBypass(false);
    }

    private static IdleStrategy idleStrategy(final LbConfig config, final AtomicCounter sleeps,
        final PacketSocket... sockets)
    {
        switch (config.idleStrategy())
        {
            case SPIN:
                return new BusySpinIdleStrategy();
            case YIELD:
                return new YieldingIdleStrategy();
            default:
                return new PollIdleStrategy(config.idleSpin().toNanos(), sleeps, sockets);
        }
    }

    /** A worker's copy of a service from the config, its backends added and published as ADD_BACKEND would. */
    private static Service buildService(final DataplaneWorker worker, final int id, final ServiceConfig sc)
    {
        final Service service = CommandApplier.newService(id, sc.name(), sc.vip(), sc.port(),
            sc.protocol().ipProtocolNumber(), SchedulerKind.parse(sc.scheduler()), sc.maglevTableSize(), sc.mode());
        final BackendPool pool = service.pool();
        for (final BackendConfig b : sc.backends())
        {
            final int handle = pool.add(b.ip(), b.port(), b.weight());
            if (handle == BackendPool.NO_HANDLE)
            {
                throw new IllegalArgumentException("service " + sc.name() + ": backend " + b + " does not fit its pool of " +
                    pool.capacity());
            }
            worker.backendStats.publish(id, pool, handle);
        }
        service.scheduler().refresh();
        return service;
    }

    static String version()
    {
        final String v = Appliance.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }

    private int[] backendIps()
    {
        final Set<Integer> ips = new LinkedHashSet<>();
        for (final ServiceConfig sc : config.services())
        {
            for (final BackendConfig b : sc.backends())
            {
                ips.add(b.ip());
            }
        }
        ips.addAll(routeServices.nextHops());
        return ips.stream().mapToInt(Integer::intValue).toArray();
    }

    /** @return " ADDRESS" for an alias of lb's own, or nothing when lb has none. */
    private static String ipv6Address(final int alias)
    {
        return alias == 0 ? "" : " " + IpAddresses.format(alias);
    }

    /** Gratuitous ARP for lb's client-side addresses, so clients with stale caches find the VIPs at once. */
    private void announce(final RawSender sender, final long mac)
    {
        final UnsafeBuffer frame = new UnsafeBuffer(new byte[ArpPacket.FRAME_LENGTH]);
        final Set<Integer> ips = new LinkedHashSet<>();
        ips.add(config.clientIp());
        config.services().forEach(s -> ips.add(s.vip()));
        for (final int ip : ips)
        {
            if (IpAddresses.isIpv6(ip))
            {
                continue; // an alias is no IPv4 address: ARP must never carry one
            }
            sender.send(frame, 0, ArpPacket.writeRequestFrame(frame, 0, mac, ip, ip));
        }
    }

    private <T extends AutoCloseable> T keep(final T resource)
    {
        resources.add(resource);
        return resource;
    }

    public CountersReader counters()
    {
        return countersManager;
    }

    /** @return worker {@code index}'s counters */
    public DataplaneCounters dataplaneCounters(final int index)
    {
        return workers.get(index).counters;
    }

    /** @return the number of dataplane workers */
    public int workerCount()
    {
        return workers.size();
    }

    public long uptimeMillis()
    {
        return System.currentTimeMillis() - startedAtMillis;
    }

    private static void sleepQuietly(final long millis)
    {
        try
        {
            Thread.sleep(millis);
        }
        catch (final InterruptedException ex)
        {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Withdraws the VIPs (when lb announces them), stops the threads (waiting for them), then
     * closes the sockets. Idempotent.
     */
    @Override
    public void close()
    {
        if (announcement != null)
        {
            // Withdraw first and go on forwarding for a moment: packets the router sent before it
            // took the route away still arrive, and their flows live on at the other instances.
            announcement.close();
            announcement = null;
            sleepQuietly(WITHDRAW_GRACE_MILLIS);
        }
        CloseHelper.quietClose(controlServer);
        controlServer = null;
        CloseHelper.quietClose(controlRunner);
        controlRunner = null;
        CloseHelper.quietCloseAll(dataplaneRunners);
        dataplaneRunners.clear();
        for (int i = resources.size() - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(resources.get(i));
        }
        resources.clear();
    }

    /**
     * Prints the counters and the backends' state: after {@link #close()}, so it reads state the
     * workers no longer write. {@code counter NAME VALUE} lines are totals over the workers (drop
     * counters only when not zero); with several workers, {@code worker I NAME VALUE} lines follow
     * with each worker's non-zero counters. Backend lines show worker 0's configuration and flow
     * counts summed over the workers.
     */
    public void printSummary(final PrintStream out)
    {
        final Map<String, long[]> totals = new LinkedHashMap<>();
        final List<String> perWorker = new ArrayList<>();
        countersManager.forEach((counterId, typeId, keyBuffer, label) ->
        {
            final long value = countersManager.getCounterValue(counterId);
            final int at = label.lastIndexOf(" worker=");
            final String name = at < 0 ? label : label.substring(0, at);
            totals.computeIfAbsent(name, k -> new long[] {typeId, 0})[1] += value;
            if (at >= 0 && value != 0)
            {
                perWorker.add("worker " + label.substring(at + " worker=".length()) + " " + name + " " + value);
            }
        });
        totals.forEach((name, typeAndValue) ->
        {
            if (typeAndValue[0] != DataplaneCounters.TYPE_DROP || typeAndValue[1] != 0)
            {
                out.println("counter " + name + " " + typeAndValue[1]);
            }
        });
        long drops = 0;
        long flows = 0;
        for (final DataplaneWorker w : workers)
        {
            drops += w.counters.totalDrops();
            flows += w.pipeline == null ? 0 : w.pipeline.flowCount();
        }
        out.println("counter drops_total " + drops);
        if (control != null)
        {
            final TcpChecker checker = control.checker();
            out.println("counter tcp_check_syns_sent " + checker.synsSent());
            out.println("counter tcp_check_syn_acks " + checker.synAcks());
            out.println("counter tcp_check_rsts " + checker.rsts());
            out.println("counter tcp_check_timeouts " + checker.timeouts());
            out.println("counter tcp_check_resets_sent " + checker.resetsSent());
            out.println("counter tcp_check_stale_replies " + checker.staleReplies());
        }
        out.println("flows " + flows);
        if (runtime != null && config.ipv6().enabled())
        {
            out.println("flows6 " + runtime.info().flows6());
        }
        if (workers.size() > 1)
        {
            perWorker.forEach(out::println);
        }
        workers.get(0).services.forEach(s ->
        {
            final BackendPool pool = s.pool();
            for (int slot = 0; slot < pool.capacity(); slot++)
            {
                final int h = pool.handleAt(slot);
                if (h == BackendPool.NO_HANDLE)
                {
                    continue;
                }
                long newFlows = 0;
                long activeFlows = 0;
                for (final DataplaneWorker w : workers)
                {
                    final Service copy = w.services.byId(s.id());
                    final int handle = copy == null ? BackendPool.NO_HANDLE : copy.pool().find(pool.ip(h), pool.port(h));
                    if (handle != BackendPool.NO_HANDLE)
                    {
                        newFlows += copy.pool().newFlowsTotal(handle);
                        activeFlows += copy.pool().activeFlows(handle);
                    }
                }
                out.println("backend " + s.name() + " " + IpAddresses.endpoint(pool.ip(h), s.backendPort(h)) +
                    " health=" + (pool.isHealthy(h) && pool.mac(h) != 0 ? "up" : "down") +
                    (control == null || control.checker().check(s.id(), pool.ip(h), s.backendPort(h)) == null ? "" :
                        " check=" + (pool.isCheckPassing(h) ? "up" : "down")) +
                    " state=" + pool.adminState(h).name().toLowerCase() + " weight=" + pool.weight(h) +
                    " new_flows=" + newFlows + " active_flows=" + activeFlows);
            }
        });
        if (runtime != null)
        {
            for (final RuntimeApi.RouteStats route : runtime.routes())
            {
                out.println("route " + route.name() + " " + route.prefix() + " policy=" + route.policy() +
                    " flows=" + route.flows() + " moves=" + route.moves() +
                    " flowlet_switches=" + route.flowletSwitches());
                for (final RuntimeApi.NextHopStats hop : route.nextHops())
                {
                    out.println("next-hop " + route.name() + " " + IpAddresses.format(hop.ip()) + " health=" +
                        (hop.up() ? "up" : "down") + " packets=" + hop.packets() + " bytes=" + hop.bytes() +
                        " active_flows=" + hop.activeFlows());
                }
            }
        }
    }
}
