package lb.control.appliance;

import java.io.IOException;
import java.io.PrintStream;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import lb.control.socket.CommandDispatcher;
import lb.control.socket.ControlServer;
import lb.control.socket.ControlSocketOptions;
import lb.control.socket.RuntimeCommands;
import lb.dataplane.pipeline.BackendStatsTable;
import lb.dataplane.worker.CommandApplier;
import org.HdrHistogram.SingleWriterRecorder;
import org.agrona.concurrent.ringbuffer.ManyToOneRingBuffer;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import lb.control.Log;
import lb.control.config.BackendConfig;
import lb.control.config.IdleStrategyKind;
import lb.control.config.Ipv4;
import lb.control.config.LbConfig;
import lb.control.config.ServiceConfig;
import lb.dataplane.flow.FlowTable;
import lb.dataplane.flow.FullPolicy;
import lb.dataplane.io.HugePageMemory;
import lb.dataplane.io.InterfaceInfo;
import lb.dataplane.io.PacketSocket;
import lb.dataplane.io.RawSender;
import lb.dataplane.io.RingConfig;
import lb.dataplane.packet.ArpPacket;
import lb.dataplane.pipeline.DataplaneCounters;
import lb.dataplane.pipeline.FrameSink;
import lb.dataplane.pipeline.PacketPipeline;
import lb.dataplane.pipeline.Service;
import lb.dataplane.pipeline.ServiceTable;
import lb.dataplane.sched.BackendPool;
import lb.dataplane.sched.SchedulerKind;
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
import org.agrona.concurrent.ringbuffer.OneToOneRingBuffer;
import org.agrona.concurrent.ringbuffer.RingBufferDescriptor;
import org.agrona.concurrent.status.CountersManager;
import org.agrona.concurrent.status.CountersReader;

/**
 * The running appliance: one dataplane worker thread and one control thread, built from a
 * validated {@link LbConfig}.
 *
 * <p>The worker owns the packet sockets of both interfaces, the flow table, the services with
 * their backend pools and schedulers, and its counters. The control thread owns the ARP probes.
 * They talk through two single-producer rings: commands (control to worker) and events (worker
 * to control: ARP frames seen on the server side). The counters live in an Agrona
 * {@link CountersManager} that any thread may read while the worker writes.
 */
public final class Appliance implements AutoCloseable
{
    static final int RING_BYTES = (1 << 20) + RingBufferDescriptor.TRAILER_LENGTH;

    private final LbConfig config;
    private final CountersManager countersManager;
    private final DataplaneCounters counters;
    private final ServiceTable services = new ServiceTable();
    private final FlowTable flows;
    /** Control to worker: many producers (the health prober and the control socket). */
    private final ManyToOneRingBuffer commands =
        new ManyToOneRingBuffer(new UnsafeBuffer(ByteBuffer.allocateDirect(RING_BYTES)));
    /** Worker to control: ARP frames from the server side. */
    private final OneToOneRingBuffer events = ring();
    private final AtomicLong commandsWritten = new AtomicLong();
    private final BackendStatsTable backendStats = new BackendStatsTable();
    private final SingleWriterRecorder packetLatency = new SingleWriterRecorder(1, DataplaneAgent.LATENCY_MAX_NANOS, 2);
    private final Map<Integer, ApplianceRuntime.ProbeRtt> probeRtts = ApplianceRuntime.newProbeRttMap();
    private final AtomicReference<int[]> probedBackends = new AtomicReference<>();
    private ApplianceRuntime runtime;
    private ControlServer controlServer;
    private final List<AutoCloseable> resources = new ArrayList<>();
    private PacketPipeline pipeline;
    private ControlAgent control;
    private AgentRunner dataplaneRunner;
    private AgentRunner controlRunner;
    private final long startedAtMillis = System.currentTimeMillis();

    private Appliance(final LbConfig config)
    {
        this.config = config;
        this.countersManager = new CountersManager(
            new UnsafeBuffer(ByteBuffer.allocateDirect(1 << 20)), new UnsafeBuffer(ByteBuffer.allocateDirect(1 << 16)));
        this.counters = new DataplaneCounters(countersManager, 0);
        // Huge pages: the table is far bigger than the caches, so each lookup would otherwise also miss the TLB.
        this.flows = new FlowTable(2 * config.flowCapacity(), FullPolicy.REFUSE, HugePageMemory::allocate);
        final var t = config.timeouts();
        flows.setTimeouts(t.tcpSyn().toNanos(), t.tcpEstablished().toNanos(), t.tcpClosing().toNanos(), t.udp().toNanos());
    }

    private static OneToOneRingBuffer ring()
    {
        return new OneToOneRingBuffer(new UnsafeBuffer(ByteBuffer.allocateDirect(RING_BYTES)));
    }

    /**
     * Opens the interfaces and starts the threads.
     *
     * @throws lb.dataplane.io.PacketIoException with a one-line message naming the interface
     */
    public static Appliance start(final LbConfig config)
    {
        if (config.workers() != 1)
        {
            throw new IllegalArgumentException("--workers " + config.workers() +
                ": this build runs one dataplane worker; several (PACKET_FANOUT) are not implemented yet");
        }
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
        final RingConfig ring = ringConfig(config);
        final PacketSocket clientSocket = keep(PacketSocket.open(config.clientInterface(), ring));
        final PacketSocket serverSocket = keep(PacketSocket.open(config.serverInterface(), ring));
        final RawSender clientSender = keep(RawSender.open(config.clientInterface()));
        final RawSender serverSender = keep(RawSender.open(config.serverInterface()));
        final long clientMac = clientSocket.interfaceInfo().mac();
        final long serverMac = serverSocket.interfaceInfo().mac();
        if (config.rxRing().frameSize() != Integer.parseInt(lb.control.config.ConfigDefaults.RX_FRAME_SIZE) ||
            config.rxRing().frameCount() != Integer.parseInt(lb.control.config.ConfigDefaults.RX_FRAME_COUNT))
        {
            Log.info("rx-ring frame-size/frame-count are not used: GSO forwarding needs " + ring.rxFrameSize() +
                "-byte slots, " + ring.rxFrameCount() + " per ring");
        }
        Log.info("client side " + config.clientInterface() + " " + InterfaceInfo.formatMac(clientMac) + " " + Ipv4.format(config.clientIp()) +
            ", server side " + config.serverInterface() + " " + InterfaceInfo.formatMac(serverMac) + " " + Ipv4.format(config.gatewayIp()) +
            ", rings " + ring);

        int id = 0;
        for (final ServiceConfig sc : config.services())
        {
            services.add(buildService(id++, sc));
            Log.info("service " + sc);
        }
        probedBackends.set(backendIps());

        final RxFrameContext rx = new RxFrameContext();
        final FrameSink toControl = (buffer, offset, length) -> events.write(Commands.ARP_FRAME, buffer, offset, length);
        pipeline = new PacketPipeline(services, flows, counters, backendStats, new SocketSink(clientSocket, rx),
            new SocketSink(serverSocket, rx), toControl, clientMac, serverMac, config.clientIp(), config.gatewayIp());
        final DataplaneAgent agent = new DataplaneAgent("lb-dataplane-0", pipeline, clientSocket, serverSocket, commands, rx, counters,
            new CommandApplier(services, flows, backendStats, counters.commandsApplied, counters.commandsRejected), packetLatency);

        control = new ControlAgent(events, commands, commandsWritten, serverSender, serverMac, config.gatewayIp(),
            probedBackends, probeRtts, config.probe().interval().toNanos(), config.probe().timeout().toNanos());
        runtime = new ApplianceRuntime(version(), config.services(), backendStats, counters, flows, config.flowCapacity(),
            commands, commandsWritten, probedBackends, probeRtts, packetLatency);

        announce(clientSender, clientMac);
        dataplaneRunner = new AgentRunner(idleStrategy(config.idleStrategy(), clientSocket, serverSocket),
            ex -> Log.info("dataplane error: " + ex), null, agent);
        controlRunner = new AgentRunner(new BackoffIdleStrategy(1, 1, 100_000, 1_000_000),
            ex -> Log.info("control error: " + ex), null, control);
        AgentRunner.startOnThread(dataplaneRunner);
        AgentRunner.startOnThread(controlRunner);
        try
        {
            controlServer = ControlServer.start(ControlSocketOptions.at(config.controlSocket()),
                RuntimeCommands.register(new CommandDispatcher(Log::info), runtime), Log::info);
        }
        catch (final IOException ex)
        {
            throw new IllegalArgumentException("control socket " + config.controlSocket() + ": " + ex.getMessage(), ex);
        }
        Log.info("control socket " + controlServer.path() + " (mode 0600): try 'bin/lbctl show stat'");
        Log.info("running: " + services.count() + " service(s), flow capacity " + config.flowCapacity() +
             " (" + flows.memoryBytes() / (1 << 20) + " MiB, huge pages advised), idle strategy " + config.idleStrategy().configName());
    }

    static RingConfig ringConfig(final LbConfig config)
    {
        final RingConfig.Builder b = RingConfig.builder()
            .version(config.rxRing().version() == lb.control.config.RingVersion.V3 ? RingConfig.Version.V3 : RingConfig.Version.V2)
            // Virtio-net headers let lb forward GSO super-frames and offloaded checksums as they are.
            .vnetHeader(true)
            // The qdisc-bypass path (dev_direct_xmit) drops every frame the kernel must segment or
            // checksum for a device without those offloads: GSO frames need the normal path.
            .qdiscBypass(false);
        return b.build();
    }

    private static IdleStrategy idleStrategy(final IdleStrategyKind kind, final PacketSocket... sockets)
    {
        switch (kind)
        {
            case SPIN:
                return new BusySpinIdleStrategy();
            case YIELD:
                return new YieldingIdleStrategy();
            default:
                return new PollIdleStrategy(sockets);
        }
    }

    /** A service from the config, its backends added and published as ADD_BACKEND would. */
    private Service buildService(final int id, final ServiceConfig sc)
    {
        final Service service = CommandApplier.newService(id, sc.name(), sc.vip(), sc.port(),
            sc.protocol().ipProtocolNumber(), SchedulerKind.parse(sc.scheduler()), sc.maglevTableSize());
        final BackendPool pool = service.pool();
        for (final BackendConfig b : sc.backends())
        {
            backendStats.publish(id, pool, pool.add(b.ip(), b.port(), b.weight()));
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
        return ips.stream().mapToInt(Integer::intValue).toArray();
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

    public DataplaneCounters dataplaneCounters()
    {
        return counters;
    }

    public long uptimeMillis()
    {
        return System.currentTimeMillis() - startedAtMillis;
    }

    /** Stops both threads (waiting for them), then closes the sockets. Idempotent. */
    @Override
    public void close()
    {
        CloseHelper.quietClose(controlServer);
        controlServer = null;
        CloseHelper.quietCloseAll(controlRunner, dataplaneRunner);
        controlRunner = null;
        dataplaneRunner = null;
        for (int i = resources.size() - 1; i >= 0; i--)
        {
            CloseHelper.quietClose(resources.get(i));
        }
        resources.clear();
    }

    /**
     * Prints the counters and the backends' state: after {@link #close()}, so it reads state the
     * worker no longer writes.
     */
    public void printSummary(final PrintStream out)
    {
        countersManager.forEach((counterId, typeId, keyBuffer, label) ->
        {
            final long value = countersManager.getCounterValue(counterId);
            if (typeId != DataplaneCounters.TYPE_DROP || value != 0)
            {
                out.println("counter " + label.replace(" worker=0", "") + " " + value);
            }
        });
        out.println("counter drops_total " + counters.totalDrops());
        out.println("flows " + (pipeline == null ? 0 : pipeline.flowCount()));
        services.forEach(s ->
        {
            final BackendPool pool = s.pool();
            for (int slot = 0; slot < pool.capacity(); slot++)
            {
                final int h = pool.handleAt(slot);
                if (h == BackendPool.NO_HANDLE)
                {
                    continue;
                }
                out.println("backend " + s.name() + " " + Ipv4.format(pool.ip(h)) + ":" + s.backendPort(h) +
                    " health=" + (pool.isHealthy(h) && pool.mac(h) != 0 ? "up" : "down") +
                    " state=" + pool.adminState(h).name().toLowerCase() + " weight=" + pool.weight(h) +
                    " new_flows=" + pool.newFlowsTotal(h) + " active_flows=" + pool.activeFlows(h));
            }
        });
    }
}
