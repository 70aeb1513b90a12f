package lb.control.socket;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import lb.control.config.BackendConfig;
import lb.control.config.IpAddresses;
import lb.control.config.Ipv4;
import lb.control.config.Protocol;
import lb.control.config.RouteConfig;
import lb.control.config.Values.BackendAddress;
import lb.control.config.Values.ServiceAddress;
import lb.dataplane.sched.AdminState;
import org.HdrHistogram.Histogram;

/**
 * A complete {@link RuntimeApi} over plain maps, for tests: services and backends that the
 * commands really add, change and remove, counters a test drives with {@link #forward}, flows it
 * adds, and real HdrHistograms for latency. Refusals say what the appliance would say.
 */
public class InMemoryRuntime implements RuntimeApi
{
    /** One backend's state and counters. */
    public static final class Backend
    {
        final int ip;
        final int port;
        AdminState state = AdminState.READY;
        Health health = Health.UNKNOWN;
        int weight;
        long activeFlows;
        long newFlows;
        long packets;
        long bytes;
        long lastProbeRttNanos = -1;
        final Histogram probeRtt = new Histogram(3_600_000_000_000L, 3);

        Backend(final int ip, final int port, final int weight)
        {
            this.ip = ip;
            this.port = port;
            this.weight = weight;
        }

        public AdminState state()
        {
            return state;
        }

        public int weight()
        {
            return weight;
        }
    }

    /** One service and its backends, keyed by "ip:port". */
    public static final class Service
    {
        final String name;
        final ServiceAddress address;
        final String scheduler;
        final Map<String, Backend> backends = new LinkedHashMap<>();

        Service(final String name, final ServiceAddress address, final String scheduler)
        {
            this.name = name;
            this.address = address;
            this.scheduler = scheduler;
        }
    }

    private final Map<String, Service> services = new LinkedHashMap<>();
    private final List<FlowSample> flows = new ArrayList<>();
    private final Map<String, long[]> drops = new LinkedHashMap<>();
    private final Map<String, String> dropDescriptions = new LinkedHashMap<>();
    private final Histogram packetProcessing = new Histogram(3_600_000_000_000L, 3);
    private String version = "0.1.0-test";
    private long clockNanos = 1_000_000_000L;
    private Runnable beforeStats = () -> { };
    private int flowCapacity = 1 << 20;

    public InMemoryRuntime()
    {
        drop("no_service", "no service at the destination address and port");
        drop("bad_checksum", "IPv4 header checksum is wrong");
        drop("truncated", "frame shorter than its headers say");
    }

    /** A runtime with service web (198.18.0.100:80/tcp, wrr) and backends .11 (weight 3) and .12:8080 (weight 1). */
    public static InMemoryRuntime withWebService()
    {
        final InMemoryRuntime runtime = new InMemoryRuntime();
        runtime.addService("web", new ServiceAddress(Ipv4.parse("198.18.0.100"), 80, Protocol.TCP), "wrr");
        runtime.addBackend("web", new BackendAddress(Ipv4.parse("198.18.1.11"), BackendConfig.SAME_PORT), 3);
        runtime.addBackend("web", new BackendAddress(Ipv4.parse("198.18.1.12"), 8080), 1);
        return runtime;
    }

    // ---- what a test drives ----

    public synchronized InMemoryRuntime version(final String version)
    {
        this.version = version;
        return this;
    }

    public synchronized void drop(final String name, final String description)
    {
        drops.put(name, new long[1]);
        dropDescriptions.put(name, description);
    }

    public synchronized void countDrop(final String name, final long count)
    {
        drops.get(name)[0] += count;
    }

    /** Counts traffic of new flows to a backend, as the dataplane would. */
    public synchronized void forward(
        final String service, final String backend, final long newFlows, final long packets, final long bytes)
    {
        final Backend target = services.get(service).backends.get(backend);
        target.newFlows += newFlows;
        target.activeFlows += newFlows;
        target.packets += packets;
        target.bytes += bytes;
    }

    public synchronized void probeAnswered(final String service, final String backend, final long rttNanos)
    {
        final Backend target = services.get(service).backends.get(backend);
        target.health = Health.UP;
        target.lastProbeRttNanos = rttNanos;
        target.probeRtt.recordValue(rttNanos);
    }

    public synchronized void packetProcessed(final long nanos)
    {
        packetProcessing.recordValue(nanos);
    }

    public synchronized void addFlow(final FlowSample flow)
    {
        flows.add(flow);
    }

    public synchronized void advanceClock(final Duration duration)
    {
        clockNanos += duration.toNanos();
    }

    /** Runs before each {@link #stats()} sample, to simulate traffic between samples. */
    public synchronized void beforeStats(final Runnable action)
    {
        beforeStats = action;
    }

    public synchronized Backend backend(final String service, final String backend)
    {
        final Service found = services.get(service);
        return found == null ? null : found.backends.get(backend);
    }

    public synchronized boolean hasService(final String name)
    {
        return services.containsKey(name);
    }

    // ---- RuntimeApi ----

    @Override
    public synchronized Info info()
    {
        long packets = 0;
        long bytes = 0;
        for (final Service service : services.values())
        {
            for (final Backend backend : service.backends.values())
            {
                packets += backend.packets;
                bytes += backend.bytes;
            }
        }
        long dropped = 0;
        for (final long[] count : drops.values())
        {
            dropped += count[0];
        }
        return new Info(version, Duration.ofNanos(clockNanos), 2, packets + dropped, bytes, packets, bytes, dropped,
            flows.size(), flowCapacity, 2_000_000L * (packets + dropped), 500_000L * (packets + dropped), packets + dropped, 7, 0L, 0L, 0L,
            0L, 0L);
    }

    private List<WorkerTraffic> workerTraffic = List.of();

    /** What show stat's workers section reports from now on. */
    public synchronized void workerTraffic(final List<WorkerTraffic> traffic)
    {
        workerTraffic = List.copyOf(traffic);
    }

    @Override
    public synchronized List<WorkerTraffic> workerTraffic()
    {
        return workerTraffic;
    }

    @Override
    public synchronized Stats stats()
    {
        beforeStats.run();
        final List<ServiceStats> list = new ArrayList<>();
        for (final Service service : services.values())
        {
            final List<BackendStats> backends = new ArrayList<>();
            long active = 0;
            long created = 0;
            long packets = 0;
            long bytes = 0;
            for (final Backend backend : service.backends.values())
            {
                backends.add(new BackendStats(backend.ip, backend.port, backend.state, backend.health, backend.weight,
                    backend.activeFlows, backend.newFlows, backend.packets, backend.bytes, backend.lastProbeRttNanos));
                active += backend.activeFlows;
                created += backend.newFlows;
                packets += backend.packets;
                bytes += backend.bytes;
            }
            list.add(new ServiceStats(service.name, service.address.vip(), service.address.port(),
                service.address.protocol(), service.scheduler, active, created, packets, bytes, backends));
        }
        return new Stats(clockNanos, list);
    }

    @Override
    public synchronized List<DropCount> drops()
    {
        final List<DropCount> list = new ArrayList<>();
        for (final Map.Entry<String, long[]> drop : drops.entrySet())
        {
            list.add(new DropCount(drop.getKey(), drop.getValue()[0], dropDescriptions.get(drop.getKey())));
        }
        return list;
    }

    @Override
    public synchronized List<FlowSample> flows(final int max)
    {
        return List.copyOf(flows.subList(0, Math.min(max, flows.size())));
    }

    @Override
    public synchronized Latency latency()
    {
        final List<BackendLatency> probes = new ArrayList<>();
        for (final Service service : services.values())
        {
            for (final Backend backend : service.backends.values())
            {
                probes.add(new BackendLatency(service.name, backend.ip, backend.port, percentiles(backend.probeRtt)));
            }
        }
        return new Latency(percentiles(packetProcessing), probes);
    }

    @Override
    public synchronized void setWeight(final String service, final BackendAddress backend, final int weight)
    {
        find(service, backend).weight = weight;
    }

    @Override
    public synchronized void setState(final String service, final BackendAddress backend, final AdminState state)
    {
        find(service, backend).state = state;
    }

    @Override
    public synchronized void addBackend(final String service, final BackendAddress backend, final int weight)
    {
        final Service found = service(service);
        final int port = backend.port() == BackendConfig.SAME_PORT ? found.address.port() : backend.port();
        final String key = IpAddresses.endpoint(backend.ip(), port);
        if (found.backends.containsKey(key))
        {
            throw new CommandException("service " + service + " already has backend " + key);
        }
        found.backends.put(key, new Backend(backend.ip(), port, weight));
    }

    @Override
    public synchronized void delBackend(final String service, final BackendAddress backend)
    {
        final Service found = service(service);
        final Backend removed = find(service, backend);
        found.backends.remove(IpAddresses.endpoint(removed.ip, removed.port));
    }

    /** Routes added through the control socket, as the commands parsed them. */
    public final List<RouteConfig> routesAdded = new ArrayList<>();

    @Override
    public synchronized void addRoute(final RouteConfig route)
    {
        routesAdded.add(route);
    }

    @Override
    public synchronized void delRoute(final String name)
    {
        if (!routesAdded.removeIf(r -> r.name().equals(name)))
        {
            throw new CommandException("no route '" + name + "'");
        }
    }

    @Override
    public synchronized void addService(final String name, final ServiceAddress address, final String scheduler)
    {
        if (services.containsKey(name))
        {
            throw new CommandException("service " + name + " exists already");
        }
        for (final Service service : services.values())
        {
            if (service.address.equals(address))
            {
                throw new CommandException("service " + service.name + " has that address already");
            }
        }
        services.put(name, new Service(name, address, scheduler));
    }

    @Override
    public synchronized void delService(final String name)
    {
        service(name);
        services.remove(name);
    }

    private Service service(final String name)
    {
        final Service service = services.get(name);
        if (service == null)
        {
            throw new CommandException("unknown service '" + name + "'");
        }
        return service;
    }

    private Backend find(final String service, final BackendAddress backend)
    {
        final Service found = service(service);
        final int port = backend.port() == BackendConfig.SAME_PORT ? found.address.port() : backend.port();
        final String key = IpAddresses.endpoint(backend.ip(), port);
        final Backend target = found.backends.get(key);
        if (target == null)
        {
            throw new CommandException("service " + service + " has no backend " + key);
        }
        return target;
    }

    private static Percentiles percentiles(final Histogram histogram)
    {
        if (histogram.getTotalCount() == 0)
        {
            return Percentiles.EMPTY;
        }
        return new Percentiles(histogram.getTotalCount(), histogram.getValueAtPercentile(50),
            histogram.getValueAtPercentile(90), histogram.getValueAtPercentile(99),
            histogram.getValueAtPercentile(99.9), histogram.getMaxValue());
    }
}
