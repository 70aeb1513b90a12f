package lb.control.socket;

import java.time.Duration;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import lb.control.config.BackendConfig;
import lb.control.config.IpAddresses;
import lb.control.config.Protocol;
import lb.control.config.RouteConfig;
import lb.control.config.ServiceConfig;
import lb.control.config.TcpCheckConfig;
import lb.control.config.Values;
import lb.control.config.Values.BackendAddress;
import lb.control.config.Values.ServiceAddress;
import lb.dataplane.pipeline.ForwardingMode;
import lb.dataplane.sched.AdminState;


/**
 * The operations of the runtime API (the control socket), which the appliance implements. Reads
 * return plain data records, no formatting: {@link RuntimeCommands} turns them into text, JSON and
 * Prometheus metrics.
 * <p>
 * Every method is called on the control-socket thread only, one call at a time. A change that is
 * refused (unknown service, duplicate backend, full table) throws {@link CommandException} with a
 * one-line reason naming the object; arguments arrive already parsed and range-checked.
 * <p>
 * Addresses are {@code int}s holding the IPv4 address as a big-endian number, or an IPv6 address's
 * alias (see {@link IpAddresses}). A backend is named within its service by address and port; a
 * {@link BackendAddress} whose port is {@link BackendConfig#SAME_PORT} means the service's port.
 */
public interface RuntimeApi
{
    /** @return the appliance as a whole. */
    Info info();

    /**
     * What lb announces over BGP: per VIP whether lb wants it announced (lb runs, is not drained
     * and the VIP has a healthy backend) and whether BIRD confirms it is. {@link Announcements#NONE}
     * when lb announces nothing (no BGP in its config).
     */
    default Announcements announcements()
    {
        return Announcements.NONE;
    }

    /**
     * Drains this instance from the router (off: every VIP withdrawn, forwarding goes on for the
     * flows still arriving) or puts it back (on: VIPs announced again as their health allows).
     *
     * @param on false to withdraw every VIP.
     */
    default void setAnnounce(final boolean on)
    {
        throw new CommandException("lb announces nothing: its config has no bgp-local/bgp-neighbor");
    }

    /** @return per service and per backend state and counters, sampled together. */
    Stats stats();

    /** @return every drop counter (including those at zero), summed over workers, in a stable order. */
    List<DropCount> drops();

    /** @return each worker's account of the frames it read (show stat's workers); none by default. */
    default List<WorkerTraffic> workerTraffic()
    {
        return List.of();
    }

    /** @return the route services with their next hops' live counters, summed over workers; none by default. */
    default List<RouteStats> routes()
    {
        return List.of();
    }

    /**
     * @param max the most flows to return, at least 1.
     * @return up to {@code max} flows from the flow tables: a sample, not a consistent snapshot.
     */
    List<FlowSample> flows(int max);

    /** @return latency percentiles of packet processing and of backend probes. */
    Latency latency();

    /**
     * Sets a backend's weight; 0 stops new flows to it (established flows stay).
     *
     * @param service a service name.
     * @param backend one of its backends.
     * @param weight  0..{@link BackendConfig#MAX_WEIGHT}.
     */
    void setWeight(String service, BackendAddress backend, int weight);

    /**
     * Sets a backend's operator state.
     *
     * @param service a service name.
     * @param backend one of its backends.
     * @param state   READY (takes flows), DRAIN (keeps established flows, takes no new ones) or
     *                MAINT (out of service).
     */
    void setState(String service, BackendAddress backend, AdminState state);

    /**
     * Adds a backend to a service, READY with the given weight.
     *
     * @param service a service name.
     * @param backend the new backend; it must not be in the service already.
     * @param weight  0..{@link BackendConfig#MAX_WEIGHT}.
     */
    void addBackend(String service, BackendAddress backend, int weight);

    /**
     * Removes a backend from a service; its established flows end.
     *
     * @param service a service name.
     * @param backend one of its backends.
     */
    void delBackend(String service, BackendAddress backend);

    /**
     * Adds a service with no backends yet.
     *
     * @param name      a new service name (see {@link Values#serviceName}).
     * @param address   its VIP, port and protocol; no other service may have them.
     * @param scheduler one of {@link ServiceConfig#SCHEDULERS}.
     */
    void addService(String name, ServiceAddress address, String scheduler);

    /**
     * Adds a service with no backends yet, forwarding in the given mode.
     *
     * @param mode how packets reach its backends.
     */
    default void addService(final String name, final ServiceAddress address, final String scheduler,
        final ForwardingMode mode)
    {
        if (mode != ForwardingMode.NAT)
        {
            throw new CommandException("mode " + mode.configName() + " is not supported here");
        }
        addService(name, address, scheduler);
    }

    /**
     * Adds a service with no backends yet, forwarding in the given mode, with a TCP check of every
     * backend added to it.
     *
     * @param check its TCP check, or null for none.
     */
    default void addService(final String name, final ServiceAddress address, final String scheduler,
        final ForwardingMode mode, final TcpCheckConfig check)
    {
        if (check != null)
        {
            throw new CommandException("TCP checks are not supported here");
        }
        addService(name, address, scheduler, mode);
    }

    /**
     * Removes a service, its backends and its flows.
     *
     * @param name a service name.
     */
    void delService(String name);

    /**
     * Adds a route service: the workers spread its prefix over its next hops from the moment this
     * returns (each hop once its probe answers, at once when its MAC is known already).
     *
     * @param route checked as a config file's route is: no overlap with another route, no VIP or
     *              lb address inside, next hops on the server-side LAN.
     */
    default void addRoute(final RouteConfig route)
    {
        throw new CommandException("this lb has no route services");
    }

    /** Removes a route service; its flows end. */
    default void delRoute(final String name)
    {
        throw new CommandException("no route '" + name + "'");
    }

    /** Adds a next hop to a route service. */
    default void addNextHop(final String route, final int ip)
    {
        throw new CommandException("no route '" + route + "'");
    }

    /** Removes a next hop from a route service; its flows move to the others as if it had died. */
    default void delNextHop(final String route, final int ip)
    {
        throw new CommandException("no route '" + route + "'");
    }

    /**
     * The data of {@code show metrics}, the Prometheus exposition. The default derives the standard
     * families from {@link #info()}, {@link #stats()}, {@link #drops()} and {@link #latency()}; an
     * implementation may override it to add families of its own (call
     * {@link RuntimeMetrics#standard(RuntimeApi)} and append).
     *
     * @return metric families; names and label names are checked when they are written.
     */
    default List<MetricFamily> metrics()
    {
        return RuntimeMetrics.standard(this);
    }

    /**
     * The appliance as a whole.
     *
     * @param version      the lb version.
     * @param uptime       time since start.
     * @param workers      dataplane worker threads.
     * @param rxPackets    frames received on both interfaces, all workers.
     * @param rxBytes      bytes received.
     * @param txPackets    frames sent.
     * @param txBytes      bytes sent.
     * @param dropped      frames dropped, all reasons.
     * @param flowsUsed    flows in the flow tables now.
     * @param flowCapacity flows the flow tables hold.
     * @param busyNanos    wall-clock nanoseconds the workers spent in duty cycles that moved frames.
     * @param txKickNanos  the part of busyNanos spent in TX kicks (the kernel's transmit path).
     * @param busyCycles   duty cycles that moved frames (rxPackets / busyCycles is the mean batch).
     * @param sleeps       times a worker blocked in poll() for want of frames.
     */
    /**
     * @param configured         whether lb announces at all.
     * @param enabled            false while drained by {@link #setAnnounce}.
     * @param sessionEstablished the BGP session to the router is up.
     * @param errors             failed exchanges with BIRD (each retried).
     * @param birdRestarts       times BIRD exited and was started again.
     * @param vips               every VIP, in service order.
     */
    record Announcements(boolean configured, boolean enabled, boolean sessionEstablished, long errors, long birdRestarts,
        List<VipAnnouncement> vips)
    {
        /** lb announces nothing. */
        public static final Announcements NONE = new Announcements(false, false, false, 0, 0, List.of());

        /** Copies the list. */
        public Announcements
        {
            vips = List.copyOf(vips);
        }
    }

    /**
     * @param vip       the address.
     * @param wanted    lb wants it announced.
     * @param announced BIRD confirms the route is exported on an established session.
     */
    record VipAnnouncement(int vip, boolean wanted, boolean announced)
    {
    }

    record Info(
        String version, Duration uptime, int workers, long rxPackets, long rxBytes, long txPackets, long txBytes,
        long dropped, long flowsUsed, long flowCapacity, long busyNanos, long txKickNanos, long busyCycles, long sleeps,
        long flowsRecovered, long icmpErrorsToServer, long icmpErrorsToClient, long flows6, long flowCapacity6)
    {
        /**
         * Frames one worker moves per second of busy time: its capacity if it never had to wait,
         * including the kernel's work inside its syscalls. 0 before the first frame.
         */
        public long capacityPps()
        {
            return busyNanos == 0 ? 0 : Math.round(rxPackets * 1e9 / busyNanos);
        }

        /** Checks the references. */
        public Info
        {
            Objects.requireNonNull(version, "version");
            Objects.requireNonNull(uptime, "uptime");
        }
    }

    /**
     * Per service and per backend state and counters.
     *
     * @param sampledAtNanos a monotonic clock ({@link System#nanoTime()}) when sampled, so a
     *                       client computes rates from two samples exactly.
     * @param services       every service, in a stable order.
     */
    record Stats(long sampledAtNanos, List<ServiceStats> services)
    {
        /** Copies the list. */
        public Stats
        {
            services = List.copyOf(services);
        }
    }

    /**
     * One service: its totals are the sums over its backends.
     *
     * @param name        the service name.
     * @param vip         its virtual address.
     * @param port        its port.
     * @param protocol    its protocol.
     * @param scheduler   its scheduler name.
     * @param activeFlows flows in the flow table now.
     * @param newFlows    flows created since start (a counter).
     * @param packets     packets forwarded for its flows, both directions (a counter).
     * @param bytes       bytes forwarded for its flows, both directions (a counter).
     * @param backends    its backends, in a stable order.
     */
    record ServiceStats(
        String name, int vip, int port, Protocol protocol, String scheduler, long activeFlows, long newFlows,
        long packets, long bytes, List<BackendStats> backends)
    {
        /** Copies the list. */
        public ServiceStats
        {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(protocol, "protocol");
            Objects.requireNonNull(scheduler, "scheduler");
            backends = List.copyOf(backends);
        }
    }

    /**
     * One backend of a service.
     *
     * @param ip               its address.
     * @param port             the port flows go to (the service port resolved, never SAME_PORT).
     * @param adminState       the operator's state.
     * @param health           what the probes say.
     * @param weight           its weight.
     * @param activeFlows      flows to it in the flow table now.
     * @param newFlows         flows scheduled to it since it was added (a counter).
     * @param packets          packets forwarded for its flows, both directions (a counter).
     * @param bytes            bytes forwarded for its flows, both directions (a counter).
     * @param lastProbeRttNanos round trip of the last answered probe, or -1 if none answered yet.
     * @param check            its TCP check, or null when the service has none.
     */
    record BackendStats(
        int ip, int port, AdminState adminState, Health health, int weight, long activeFlows, long newFlows,
        long packets, long bytes, long lastProbeRttNanos, CheckStatus check)
    {
        /** Checks the references. */
        public BackendStats
        {
            Objects.requireNonNull(adminState, "adminState");
            Objects.requireNonNull(health, "health");
        }

        /** A backend of a service without a TCP check. */
        public BackendStats(final int ip, final int port, final AdminState adminState, final Health health, final int weight,
            final long activeFlows, final long newFlows, final long packets, final long bytes, final long lastProbeRttNanos)
        {
            this(ip, port, adminState, health, weight, activeFlows, newFlows, packets, bytes, lastProbeRttNanos, null);
        }
    }

    /**
     * What a backend's TCP check says.
     *
     * @param up      whether it passes (takes new flows as far as the check goes).
     * @param inARow  results in a row against {@code up}: failures while up, passes while down.
     * @param needed  how many such results turn it: fall while up, rise while down.
     * @param last    the last check's result: none, syn-ack, rst or timeout.
     * @param port    the TCP port checked.
     */
    record CheckStatus(boolean up, int inARow, int needed, String last, int port)
    {
        /** Checks the reference. */
        public CheckStatus
        {
            Objects.requireNonNull(last, "last");
        }

        /** @return {@code up}, {@code up (1/2 failed)}, {@code down (rst)}, {@code down (rst, 1/2 passed)}. */
        public String summary()
        {
            final String turning = inARow == 0 ? "" : inARow + "/" + needed + (up ? " failed" : " passed");
            if (up)
            {
                return turning.isEmpty() ? "up" : "up (" + turning + ")";
            }
            return "down (" + last + (turning.isEmpty() ? "" : ", " + turning) + ")";
        }
    }

    /**
     * The TCP checks' counters since start.
     *
     * @param synsSent    SYNs sent.
     * @param synAcks     SYN-ACKs that answered a check (passes).
     * @param rsts        RSTs that answered a check (failures).
     * @param timeouts    checks no answer reached in time (failures).
     * @param resetsSent  RSTs lb sent to free the backends' half-open connections.
     * @param staleReplies answers no check awaited (late, or after a timeout).
     * @param checked     backends checked now (0: no service has a check).
     */
    record TcpCheckCounters(long synsSent, long synAcks, long rsts, long timeouts, long resetsSent, long staleReplies,
        int checked)
    {
        /** No checks. */
        public static final TcpCheckCounters NONE = new TcpCheckCounters(0, 0, 0, 0, 0, 0, 0);
    }

    /** @return the TCP checks' counters. */
    default TcpCheckCounters tcpCheckCounters()
    {
        return TcpCheckCounters.NONE;
    }

    /** What the health probes say about a backend. */
    enum Health
    {
        /** Not probed yet, or no answer yet since start. */
        UNKNOWN,
        /** Answers its probes. */
        UP,
        /** Missed its last probe. */
        DOWN
    }

    /**
     * One drop counter.
     *
     * @param name        the reason's short name, such as {@code no_service} (letters, digits, '_').
     * @param count       frames dropped for it since start, all workers.
     * @param description one line saying what it means.
     */
    record RouteStats(String name, String prefix, String policy, boolean rebalance, long flows, long moves,
        long flowletSwitches, List<NextHopStats> nextHops)
    {
        /** Copies the list. */
        public RouteStats
        {
            nextHops = List.copyOf(nextHops);
        }
    }

    /**
     * @param ip          the next hop.
     * @param up          usable (answers ARP probes) in every worker's group.
     * @param activeFlows flows pinned to it now.
     * @param packets     packets sent to it since start.
     * @param bytes       bytes sent to it since start.
     */
    record NextHopStats(int ip, boolean up, long activeFlows, long packets, long bytes)
    {
    }

    /**
     * One worker's account of every frame it read: {@code rxFrames = txFrames + answered + dropped +
     * toControl} whenever the worker is idle (a frame in flight shows in {@link #unaccounted()}).
     *
     * @param worker        the worker's index.
     * @param rxFrames      frames it read from both interfaces.
     * @param txFrames      frames it forwarded.
     * @param answered      frames it answered itself (ARP and echo requests for lb's addresses).
     * @param toControl     ARP frames it handed to the control thread.
     * @param dropped       frames it read and dropped, under any reason but rx_ring_overflow.
     * @param kernelDropped frames the kernel dropped before the worker could read them (rx_ring_overflow; not in rxFrames).
     * @param madeUp        frames it sent of its own making (ICMP errors, the gateway's ARP replies).
     */
    record WorkerTraffic(int worker, long rxFrames, long txFrames, long answered, long toControl, long dropped,
        long kernelDropped, long madeUp)
    {
        /** @return rx - tx - answered - dropped - to control. */
        public long unaccounted()
        {
            return rxFrames - txFrames - answered - dropped - toControl;
        }
    }

    record DropCount(String name, long count, String description)
    {
        /** Checks the references. */
        public DropCount
        {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(description, "description");
        }
    }

    /** The life stage of a flow, which picks its idle timeout. */
    enum FlowState
    {
        /** A TCP flow that has seen only the client's SYN. */
        SYN,
        /** A TCP flow past its handshake. */
        ESTABLISHED,
        /** A TCP flow that has seen FIN or RST. */
        CLOSING,
        /** A UDP flow. */
        UDP
    }

    /**
     * One flow.
     *
     * @param protocol    TCP or UDP.
     * @param clientIp    the client's address.
     * @param clientPort  the client's port.
     * @param vip         the service address the client reached.
     * @param vipPort     the service port.
     * @param service     the service name.
     * @param backendIp   the backend it goes to.
     * @param backendPort the backend port.
     * @param state       its state.
     * @param age         time since its first packet.
     * @param packets     packets in both directions.
     * @param bytes       bytes in both directions.
     */
    record FlowSample(
        Protocol protocol, int clientIp, int clientPort, int vip, int vipPort, String service, int backendIp,
        int backendPort, FlowState state, Duration age, long packets, long bytes)
    {
        /** Checks the references. */
        public FlowSample
        {
            Objects.requireNonNull(protocol, "protocol");
            Objects.requireNonNull(service, "service");
            Objects.requireNonNull(state, "state");
            Objects.requireNonNull(age, "age");
        }
    }

    /**
     * Percentiles of a latency histogram (HdrHistogram values), in nanoseconds.
     *
     * @param count     values recorded; when 0 the others are 0 and mean nothing.
     * @param p50Nanos  the median.
     * @param p90Nanos  the 90th percentile.
     * @param p99Nanos  the 99th percentile.
     * @param p999Nanos the 99.9th percentile.
     * @param maxNanos  the largest value.
     */
    record Percentiles(long count, long p50Nanos, long p90Nanos, long p99Nanos, long p999Nanos, long maxNanos)
    {
        /** No values recorded. */
        public static final Percentiles EMPTY = new Percentiles(0, 0, 0, 0, 0, 0);
    }

    /**
     * Latency of the appliance and of its backends.
     *
     * @param packetProcessing time per packet from receive-ring slot to transmit-ring slot, all workers.
     * @param probes           probe round trips per backend.
     */
    record Latency(Percentiles packetProcessing, List<BackendLatency> probes)
    {
        /** Copies the list. */
        public Latency
        {
            Objects.requireNonNull(packetProcessing, "packetProcessing");
            probes = List.copyOf(probes);
        }
    }

    /**
     * Probe round trips of one backend of a service.
     *
     * @param service  the service name.
     * @param ip       the backend address.
     * @param port     the backend port.
     * @param probeRtt the round trip percentiles.
     */
    record BackendLatency(String service, int ip, int port, Percentiles probeRtt)
    {
        /** Checks the references. */
        public BackendLatency
        {
            Objects.requireNonNull(service, "service");
            Objects.requireNonNull(probeRtt, "probeRtt");
        }
    }

    /** Prometheus metric types that lb exposes. */
    enum MetricType
    {
        /** Only goes up (resets at restart); its name ends in {@code _total}. */
        COUNTER,
        /** Goes up and down. */
        GAUGE
    }

    /**
     * One metric family: a name, a type, a help line and its samples.
     *
     * @param name    the name, such as {@code lb_rx_packets_total} ([a-zA-Z_:][a-zA-Z0-9_:]*).
     * @param type    counter or gauge.
     * @param help    one line saying what it counts.
     * @param samples its samples, each with distinct labels.
     */
    record MetricFamily(String name, MetricType type, String help, List<Sample> samples)
    {
        /** Copies the list. */
        public MetricFamily
        {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(type, "type");
            Objects.requireNonNull(help, "help");
            samples = List.copyOf(samples);
        }
    }

    /**
     * One sample of a family.
     *
     * @param labels label names to values, in the order they are written.
     * @param value  a {@code Long} (written exactly) or a {@code Double}.
     */
    record Sample(Map<String, String> labels, Number value)
    {
        /** Checks the references; keeps the label order. */
        public Sample
        {
            Objects.requireNonNull(value, "value");
            labels = Collections.unmodifiableMap(new LinkedHashMap<>(labels));
        }
    }
}
