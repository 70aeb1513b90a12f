package lb.control.appliance;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import lb.control.config.BackendConfig;
import lb.control.config.Ipv4;
import lb.control.config.Protocol;
import lb.control.config.ServiceConfig;
import lb.control.config.Values.BackendAddress;
import lb.control.config.Values.ServiceAddress;
import lb.control.socket.CommandException;
import lb.control.socket.RuntimeApi;
import lb.dataplane.flow.FlowTable;
import lb.dataplane.packet.DropReason;
import lb.dataplane.pipeline.BackendStatsTable;
import lb.dataplane.pipeline.DataplaneCounters;
import lb.dataplane.sched.AdminState;
import lb.dataplane.sched.MaglevScheduler;
import lb.dataplane.sched.SchedulerKind;
import lb.dataplane.worker.Commands;
import org.HdrHistogram.Histogram;
import org.HdrHistogram.SingleWriterRecorder;
import org.agrona.concurrent.UnsafeBuffer;
import org.agrona.concurrent.ringbuffer.RingBuffer;

/**
 * The runtime API of a running appliance, called on the control-socket thread only.
 *
 * <p>It reads what the worker publishes (counters, {@link BackendStatsTable}, the flow table) and never
 * touches the worker's objects. A change is validated here against the control side's model of
 * the services, written to the command ring, and answered only once the worker has applied it
 * (the worker counts every command it takes; this waits, bounded, until the count passes its own),
 * so "ok" means the change is in force.
 */
final class ApplianceRuntime implements RuntimeApi
{
    static final Duration APPLY_TIMEOUT = Duration.ofSeconds(2);

    /** The control side's view of one service: what the worker cannot tell (its name, scheduler). */
    record ServiceEntry(int id, String name, int vip, int port, Protocol protocol, String scheduler)
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
    private final List<ServiceEntry> services = new ArrayList<>();
    private final BackendStatsTable stats;
    private final DataplaneCounters counters;
    private final FlowTable flows;
    private final int flowCapacity;
    private final RingBuffer commands;
    private final AtomicLong commandsWritten;
    private final AtomicReference<int[]> probedBackends;
    private final Map<Integer, ProbeRtt> probeRtts;
    private final SingleWriterRecorder packetLatency;
    private final Histogram packetLatencyTotal = new Histogram(1, 10_000_000_000L, 2);
    private final UnsafeBuffer message = new UnsafeBuffer(new byte[256]);

    ApplianceRuntime(final String version, final List<ServiceConfig> initial, final BackendStatsTable stats,
        final DataplaneCounters counters, final FlowTable flows, final int flowCapacity, final RingBuffer commands,
        final AtomicLong commandsWritten, final AtomicReference<int[]> probedBackends,
        final Map<Integer, ProbeRtt> probeRtts, final SingleWriterRecorder packetLatency)
    {
        this.version = version;
        this.stats = stats;
        this.counters = counters;
        this.flows = flows;
        this.flowCapacity = flowCapacity;
        this.commands = commands;
        this.commandsWritten = commandsWritten;
        this.probedBackends = probedBackends;
        this.probeRtts = probeRtts;
        this.packetLatency = packetLatency;
        int id = 0;
        for (final ServiceConfig sc : initial)
        {
            services.add(new ServiceEntry(id++, sc.name(), sc.vip(), sc.port(), sc.protocol(), sc.scheduler()));
        }
    }

    static ProbeRtt probeRtt(final Map<Integer, ProbeRtt> map, final int ip)
    {
        return map.computeIfAbsent(ip, k -> new ProbeRtt());
    }

    // ---- reading ------------------------------------------------------------------------------

    @Override
    public Info info()
    {
        final long rxFrames = counters.rxClientFrames.get() + counters.rxServerFrames.get();
        final long rxBytes = counters.rxClientBytes.get() + counters.rxServerBytes.get();
        final long txFrames = counters.txClientFrames.get() + counters.txServerFrames.get();
        final long txBytes = counters.txClientBytes.get() + counters.txServerBytes.get();
        return new Info(version, Duration.ofNanos(System.nanoTime() - startedNanos), 1, rxFrames, rxBytes, txFrames,
            txBytes, counters.totalDrops(), flows.size() / 2, flowCapacity);
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
                final int port = stats.port(s.id(), slot) == BackendConfig.SAME_PORT ? s.port() : stats.port(s.id(), slot);
                final BackendStats b = new BackendStats(ip, port, stats.adminState(s.id(), slot), health,
                    stats.weight(s.id(), slot), stats.activeFlows(s.id(), slot), stats.newFlows(s.id(), slot),
                    stats.packets(s.id(), slot), stats.bytes(s.id(), slot), rtt == null ? -1 : rtt.lastNanos);
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
    public List<DropCount> drops()
    {
        final List<DropCount> result = new ArrayList<>();
        for (final DropReason reason : DropReason.values())
        {
            result.add(new DropCount(reason.metricName(), counters.drops(reason), reason.description()));
        }
        return result;
    }

    /**
     * A sample of forward entries, read while the worker runs: an entry being rewritten at that
     * moment may show fields of two flows. Good enough to look at; never used for decisions.
     */
    @Override
    public List<FlowSample> flows(final int max)
    {
        final List<FlowSample> result = new ArrayList<>();
        final long now = System.nanoTime();
        for (int slot = flows.nextOccupied(0); slot != FlowTable.MISSING && result.size() < max;
            slot = flows.nextOccupied(slot + 1))
        {
            if (flows.isReturnDirection(slot))
            {
                continue;
            }
            final int protocolNumber = flows.protocol(slot);
            final Protocol protocol = protocolNumber == 17 ? Protocol.UDP : Protocol.TCP;
            final ServiceEntry service = byId(flows.serviceId(slot));
            final int state = flows.tcpState(slot);
            final FlowState flowState = protocol == Protocol.UDP ? FlowState.UDP :
                state == FlowTable.TCP_SYN_SEEN ? FlowState.SYN :
                state == FlowTable.TCP_CLOSING ? FlowState.CLOSING : FlowState.ESTABLISHED;
            result.add(new FlowSample(protocol, flows.srcIp(slot), flows.srcPort(slot), flows.dstIp(slot), flows.dstPort(slot),
                service == null ? "?" : service.name(), flows.natIp(slot), flows.natPort(slot), flowState,
                Duration.ofNanos(Math.max(0, now - flows.lastSeen(slot))), flows.packets(slot), flows.bytes(slot)));
        }
        return result;
    }

    @Override
    public Latency latency()
    {
        packetLatencyTotal.add(packetLatency.getIntervalHistogram());
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
        send(Commands.ADD_BACKEND, Commands.encodeBackend(message, 0, s.id(), backend.ip(), backend.port(), weight));
        if (findBackend(s, backend) < 0)
        {
            throw new CommandException("service '" + service + "' has no room for another backend (at most " +
                BackendStatsTable.MAX_BACKENDS + ")");
        }
        probeAllBackends();
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
        for (final ServiceEntry s : services)
        {
            if (s.name().equals(name))
            {
                throw new CommandException("service '" + name + "' exists already");
            }
            if (s.vip() == address.vip() && s.port() == address.port() && s.protocol() == address.protocol())
            {
                throw new CommandException("service '" + s.name() + "' already listens on " + Ipv4.format(address.vip()) +
                    ":" + address.port() + "/" + address.protocol().configName());
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
        final int id = freeId();
        if (name.length() > 64)
        {
            throw new CommandException("service name longer than 64 characters");
        }
        send(Commands.ADD_SERVICE, Commands.encodeService(message, 0, id, address.vip(), address.port(),
            address.protocol().ipProtocolNumber(), kind.ordinal(), MaglevScheduler.DEFAULT_TABLE_SIZE, name));
        services.add(new ServiceEntry(id, name, address.vip(), address.port(), address.protocol(), kind.userName()));
    }

    @Override
    public void delService(final String name)
    {
        final ServiceEntry s = service(name);
        message.putInt(Commands.SERVICE_ID_OFFSET, s.id());
        send(Commands.DEL_SERVICE, 4);
        services.remove(s);
        probeAllBackends();
    }

    private void send(final int type, final int length)
    {
        if (!commands.write(type, message, 0, length))
        {
            throw new CommandException("the worker's command ring is full; try again");
        }
        final long target = commandsWritten.incrementAndGet();
        final long deadline = System.nanoTime() + APPLY_TIMEOUT.toNanos();
        while (counters.commandsApplied.get() + counters.commandsRejected.get() < target)
        {
            if (System.nanoTime() > deadline)
            {
                throw new CommandException("the worker has not applied the change within " + APPLY_TIMEOUT.toMillis() + " ms");
            }
            Thread.onSpinWait();
            Thread.yield();
        }
    }

    /** Tells the control thread which addresses to probe: every backend of every service. */
    private void probeAllBackends()
    {
        final Set<Integer> ips = new LinkedHashSet<>();
        for (final ServiceEntry s : services)
        {
            for (int slot = 0; slot < BackendStatsTable.MAX_BACKENDS; slot++)
            {
                if (stats.handle(s.id(), slot) != 0)
                {
                    ips.add(stats.ip(s.id(), slot));
                }
            }
        }
        probedBackends.set(ips.stream().mapToInt(Integer::intValue).toArray());
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
        return Ipv4.format(backend.ip()) + (backend.port() == BackendConfig.SAME_PORT ? "" : ":" + backend.port());
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
