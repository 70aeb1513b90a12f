package lb.control.socket;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import java.util.function.ToLongFunction;

import lb.control.config.IpAddresses;
import lb.control.socket.RuntimeApi.BackendLatency;
import lb.control.socket.RuntimeApi.BackendStats;
import lb.control.socket.RuntimeApi.DropCount;
import lb.control.socket.RuntimeApi.Health;
import lb.control.socket.RuntimeApi.Info;
import lb.control.socket.RuntimeApi.Latency;
import lb.control.socket.RuntimeApi.MetricFamily;
import lb.control.socket.RuntimeApi.MetricType;
import lb.control.socket.RuntimeApi.Percentiles;
import lb.control.socket.RuntimeApi.Sample;
import lb.control.socket.RuntimeApi.ServiceStats;
import lb.control.socket.RuntimeApi.Stats;
import lb.dataplane.sched.AdminState;

/**
 * The standard metric families of lb, derived from the runtime API's records so that
 * {@code show metrics} always agrees with {@code show info} and {@code show stat}. Times are in
 * seconds and sizes in bytes, as Prometheus prefers; every family starts with {@code lb_}.
 */
public final class RuntimeMetrics
{
    private static final double NANOS_PER_SECOND = 1e9;

    private RuntimeMetrics()
    {
    }

    /**
     * @param api the runtime API to read.
     * @return the standard families, each name once.
     */
    public static List<MetricFamily> standard(final RuntimeApi api)
    {
        final List<MetricFamily> families = new ArrayList<>();
        appliance(api.info(), families);
        announcements(api.announcements(), families);
        routes(api.routes(), families);
        drops(api.drops(), families);
        final Stats stats = api.stats();
        services(stats.services(), families);
        backends(stats.services(), families);
        tcpChecks(api.tcpCheckCounters(), stats.services(), families);
        latency(api.latency(), families);
        return families;
    }

    private static void appliance(final Info info, final List<MetricFamily> families)
    {
        families.add(new MetricFamily("lb_build_info", MetricType.GAUGE, "Always 1; the version is a label.",
            List.of(sample(labels("version", info.version()), 1L))));
        families.add(gauge("lb_uptime_seconds", "Seconds since lb started.", info.uptime().toNanos() / NANOS_PER_SECOND));
        families.add(gauge("lb_workers", "Dataplane worker threads.", (long)info.workers()));
        families.add(counter("lb_rx_packets_total", "Frames received on both interfaces.", info.rxPackets()));
        families.add(counter("lb_rx_bytes_total", "Bytes received on both interfaces.", info.rxBytes()));
        families.add(counter("lb_tx_packets_total", "Frames sent on both interfaces.", info.txPackets()));
        families.add(counter("lb_tx_bytes_total", "Bytes sent on both interfaces.", info.txBytes()));
        families.add(gauge("lb_flows", "Flows in the flow tables.", info.flowsUsed()));
        families.add(gauge("lb_flow_capacity", "Flows the flow tables hold.", info.flowCapacity()));
        families.add(gauge("lb_flows6", "IPv6 flows in the IPv6 flow tables (counted in lb_flows too).", info.flows6()));
        families.add(gauge("lb_flow_capacity6", "Flows the IPv6 flow tables hold (counted in lb_flow_capacity too).",
            info.flowCapacity6()));
        families.add(counter("lb_worker_busy_seconds_total", "Wall-clock time the workers spent in duty cycles that moved frames.",
            (double)info.busyNanos() / NANOS_PER_SECOND));
        families.add(counter("lb_worker_tx_kick_seconds_total", "The part of the busy time spent in TX kicks (the kernel's transmit path).",
            (double)info.txKickNanos() / NANOS_PER_SECOND));
        families.add(counter("lb_worker_busy_cycles_total", "Worker duty cycles that moved frames.", info.busyCycles()));
        families.add(counter("lb_worker_sleeps_total", "Times a worker blocked in poll() for want of frames.", info.sleeps()));
        families.add(counter("lb_flows_recovered_total", "One-way flows re-created from a mid-connection segment by the consistent hash.",
            info.flowsRecovered()));
        families.add(new MetricFamily("lb_icmp_errors_forwarded_total", MetricType.COUNTER,
            "ICMP errors about a flow's packets relayed to the other side (toward: server, the flow's backend; client, its client).",
            List.of(sample(labels("toward", "server"), info.icmpErrorsToServer()),
                sample(labels("toward", "client"), info.icmpErrorsToClient()))));
    }

    private static void announcements(final RuntimeApi.Announcements announcements, final List<MetricFamily> families)
    {
        if (!announcements.configured())
        {
            return;
        }
        families.add(gauge("lb_bgp_session_up", "1 while the BGP session to the router is established.",
            announcements.sessionEstablished() ? 1L : 0L));
        families.add(counter("lb_bird_errors_total", "Failed exchanges with BIRD (each retried).", announcements.errors()));
        families.add(counter("lb_bird_restarts_total", "Times BIRD exited and lb started it again.", announcements.birdRestarts()));
        final List<Sample> samples = new ArrayList<>();
        for (final RuntimeApi.VipAnnouncement vip : announcements.vips())
        {
            samples.add(sample(labels("vip", IpAddresses.format(vip.vip())), vip.announced() ? 1L : 0L));
        }
        families.add(new MetricFamily("lb_vip_announced", MetricType.GAUGE,
            "1 while the VIP's route is announced to the router.", samples));
    }

    /** Per route and next hop: health, active flows, packets, bytes; per route: flows started and rebalancing moves. */
    private static void routes(final List<RuntimeApi.RouteStats> routes, final List<MetricFamily> families)
    {
        if (routes.isEmpty())
        {
            return;
        }
        final List<Sample> flows = new ArrayList<>();
        final List<Sample> moves = new ArrayList<>();
        final List<Sample> switches = new ArrayList<>();
        final List<Sample> up = new ArrayList<>();
        final List<Sample> active = new ArrayList<>();
        final List<Sample> packets = new ArrayList<>();
        final List<Sample> bytes = new ArrayList<>();
        for (final RuntimeApi.RouteStats route : routes)
        {
            flows.add(sample(labels("route", route.name()), route.flows()));
            moves.add(sample(labels("route", route.name()), route.moves()));
            switches.add(sample(labels("route", route.name()), route.flowletSwitches()));
            for (final RuntimeApi.NextHopStats hop : route.nextHops())
            {
                final Map<String, String> labels = labels("route", route.name());
                labels.put("next_hop", IpAddresses.format(hop.ip()));
                up.add(sample(labels, hop.up() ? 1L : 0L));
                active.add(sample(labels, hop.activeFlows()));
                packets.add(sample(labels, hop.packets()));
                bytes.add(sample(labels, hop.bytes()));
            }
        }
        families.add(new MetricFamily("lb_route_flows_total", MetricType.COUNTER, "Flows a route started.", flows));
        families.add(new MetricFamily("lb_route_moves_total", MetricType.COUNTER,
            "Flows a route moved between next hops by rebalancing.", moves));
        families.add(new MetricFamily("lb_route_flowlet_switches_total", MetricType.COUNTER,
            "Flowlets that took another next hop than their flow's last one (policy flowlet).", switches));
        families.add(new MetricFamily("lb_route_next_hop_up", MetricType.GAUGE, "1 while the next hop answers its ARP (IPv6: NDP) probes.", up));
        families.add(new MetricFamily("lb_route_next_hop_active_flows", MetricType.GAUGE, "Flows pinned to the next hop.",
            active));
        families.add(new MetricFamily("lb_route_next_hop_packets_total", MetricType.COUNTER, "Packets sent to the next hop.",
            packets));
        families.add(new MetricFamily("lb_route_next_hop_bytes_total", MetricType.COUNTER, "Bytes sent to the next hop.",
            bytes));
    }

    private static void drops(final List<DropCount> drops, final List<MetricFamily> families)
    {
        final List<Sample> samples = new ArrayList<>();
        for (final DropCount drop : drops)
        {
            samples.add(sample(labels("reason", drop.name()), drop.count()));
        }
        families.add(new MetricFamily("lb_dropped_packets_total", MetricType.COUNTER,
            "Frames dropped, by reason (see 'show drops').", samples));
    }

    private static void services(final List<ServiceStats> services, final List<MetricFamily> families)
    {
        families.add(perService(services, "lb_service_active_flows", MetricType.GAUGE,
            "Flows of the service in the flow table.", ServiceStats::activeFlows));
        families.add(perService(services, "lb_service_flows_total", MetricType.COUNTER,
            "Flows created for the service.", ServiceStats::newFlows));
        families.add(perService(services, "lb_service_packets_total", MetricType.COUNTER,
            "Packets forwarded for the service's flows, both directions.", ServiceStats::packets));
        families.add(perService(services, "lb_service_bytes_total", MetricType.COUNTER,
            "Bytes forwarded for the service's flows, both directions.", ServiceStats::bytes));
    }

    private static void backends(final List<ServiceStats> services, final List<MetricFamily> families)
    {
        families.add(perBackend(services, "lb_backend_up", MetricType.GAUGE,
            "1 if the backend answers its health probes, else 0.", backend -> backend.health() == Health.UP ? 1L : 0L));

        final List<Sample> states = new ArrayList<>();
        for (final ServiceStats service : services)
        {
            for (final BackendStats backend : service.backends())
            {
                for (final AdminState state : AdminState.values())
                {
                    final Map<String, String> labels = backendLabels(service, backend);
                    labels.put("state", state.name().toLowerCase(Locale.ROOT));
                    states.add(sample(labels, backend.adminState() == state ? 1L : 0L));
                }
            }
        }
        families.add(new MetricFamily("lb_backend_state", MetricType.GAUGE,
            "1 for the backend's operator state (ready, drain or maint), 0 for the others.", states));

        families.add(perBackend(services, "lb_backend_weight", MetricType.GAUGE,
            "The backend's weight.", backend -> (long)backend.weight()));
        families.add(perBackend(services, "lb_backend_active_flows", MetricType.GAUGE,
            "Flows to the backend in the flow table.", BackendStats::activeFlows));
        families.add(perBackend(services, "lb_backend_flows_total", MetricType.COUNTER,
            "Flows scheduled to the backend.", BackendStats::newFlows));
        families.add(perBackend(services, "lb_backend_packets_total", MetricType.COUNTER,
            "Packets forwarded for the backend's flows, both directions.", BackendStats::packets));
        families.add(perBackend(services, "lb_backend_bytes_total", MetricType.COUNTER,
            "Bytes forwarded for the backend's flows, both directions.", BackendStats::bytes));

        final List<Sample> rtts = new ArrayList<>();
        for (final ServiceStats service : services)
        {
            for (final BackendStats backend : service.backends())
            {
                if (backend.lastProbeRttNanos() >= 0)
                {
                    rtts.add(sample(backendLabels(service, backend), backend.lastProbeRttNanos() / NANOS_PER_SECOND));
                }
            }
        }
        families.add(new MetricFamily("lb_backend_probe_rtt_seconds", MetricType.GAUGE,
            "Round trip of the backend's last answered health probe.", rtts));
    }

    /** The TCP checks' families, when some service has a check. */
    private static void tcpChecks(final RuntimeApi.TcpCheckCounters checks, final List<ServiceStats> services,
        final List<MetricFamily> families)
    {
        if (checks.checked() == 0 && checks.synsSent() == 0)
        {
            return;
        }
        families.add(counter("lb_tcp_check_syns_sent_total", "TCP health check SYNs sent.", checks.synsSent()));
        families.add(counter("lb_tcp_check_syn_acks_total", "TCP checks a SYN-ACK answered (passes).", checks.synAcks()));
        families.add(counter("lb_tcp_check_rsts_total", "TCP checks an RST answered (failures).", checks.rsts()));
        families.add(counter("lb_tcp_check_timeouts_total", "TCP checks no answer reached in time (failures).", checks.timeouts()));
        families.add(counter("lb_tcp_check_resets_sent_total", "RSTs lb sent to free the backends' half-open check connections.",
            checks.resetsSent()));
        final List<Sample> up = new ArrayList<>();
        for (final ServiceStats service : services)
        {
            for (final BackendStats backend : service.backends())
            {
                if (backend.check() != null)
                {
                    up.add(sample(backendLabels(service, backend), backend.check().up() ? 1L : 0L));
                }
            }
        }
        families.add(new MetricFamily("lb_backend_check_up", MetricType.GAUGE,
            "1 while the backend passes its service's TCP check, else 0.", up));
    }

    private static void latency(final Latency latency, final List<MetricFamily> families)
    {
        final List<Sample> processing = new ArrayList<>();
        quantiles(Map.of(), latency.packetProcessing(), processing);
        families.add(new MetricFamily("lb_packet_processing_seconds", MetricType.GAUGE,
            "Per-packet processing time percentiles (quantile 1 is the maximum).", processing));
        families.add(gauge("lb_packet_processing_samples",
            "Packets the processing time percentiles are computed from.", latency.packetProcessing().count()));

        final List<Sample> probes = new ArrayList<>();
        for (final BackendLatency backend : latency.probes())
        {
            final Map<String, String> labels = labels("service", backend.service());
            labels.put("backend", IpAddresses.endpoint(backend.ip(), backend.port()));
            quantiles(labels, backend.probeRtt(), probes);
        }
        families.add(new MetricFamily("lb_backend_probe_rtt_quantile_seconds", MetricType.GAUGE,
            "Health probe round trip percentiles per backend (quantile 1 is the maximum).", probes));
    }

    private static void quantiles(final Map<String, String> base, final Percentiles percentiles, final List<Sample> out)
    {
        if (percentiles.count() == 0)
        {
            return;
        }
        final String[] quantiles = {"0.5", "0.9", "0.99", "0.999", "1"};
        final long[] values = {
            percentiles.p50Nanos(), percentiles.p90Nanos(), percentiles.p99Nanos(), percentiles.p999Nanos(),
            percentiles.maxNanos()};
        for (int i = 0; i < quantiles.length; i++)
        {
            final Map<String, String> labels = new LinkedHashMap<>(base);
            labels.put("quantile", quantiles[i]);
            out.add(sample(labels, values[i] / NANOS_PER_SECOND));
        }
    }

    private static MetricFamily perService(
        final List<ServiceStats> services, final String name, final MetricType type, final String help,
        final ToLongFunction<ServiceStats> value)
    {
        final List<Sample> samples = new ArrayList<>();
        for (final ServiceStats service : services)
        {
            samples.add(sample(labels("service", service.name()), value.applyAsLong(service)));
        }
        return new MetricFamily(name, type, help, samples);
    }

    private static MetricFamily perBackend(
        final List<ServiceStats> services, final String name, final MetricType type, final String help,
        final Function<BackendStats, Long> value)
    {
        final List<Sample> samples = new ArrayList<>();
        for (final ServiceStats service : services)
        {
            for (final BackendStats backend : service.backends())
            {
                samples.add(sample(backendLabels(service, backend), value.apply(backend)));
            }
        }
        return new MetricFamily(name, type, help, samples);
    }

    private static Map<String, String> backendLabels(final ServiceStats service, final BackendStats backend)
    {
        final Map<String, String> labels = labels("service", service.name());
        labels.put("backend", IpAddresses.endpoint(backend.ip(), backend.port()));
        return labels;
    }

    private static MetricFamily counter(final String name, final String help, final long value)
    {
        return new MetricFamily(name, MetricType.COUNTER, help, List.of(sample(Map.of(), value)));
    }

    private static MetricFamily counter(final String name, final String help, final double value)
    {
        return new MetricFamily(name, MetricType.COUNTER, help, List.of(sample(Map.of(), value)));
    }

    private static MetricFamily gauge(final String name, final String help, final Number value)
    {
        return new MetricFamily(name, MetricType.GAUGE, help, List.of(sample(Map.of(), value)));
    }

    private static Map<String, String> labels(final String name, final String value)
    {
        final Map<String, String> labels = new LinkedHashMap<>();
        labels.put(name, value);
        return labels;
    }

    private static Sample sample(final Map<String, String> labels, final Number value)
    {
        return new Sample(labels, value);
    }
}
