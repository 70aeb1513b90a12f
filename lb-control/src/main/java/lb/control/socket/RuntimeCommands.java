package lb.control.socket;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import lb.control.config.BackendConfig;
import lb.control.config.ConfigDefaults;
import lb.control.config.IpAddresses;
import lb.control.config.Ipv4;
import lb.control.config.Protocol;
import lb.control.config.RouteConfig;
import lb.control.config.RoutePrefix;
import lb.control.config.ServiceConfig;
import lb.control.config.TcpCheckConfig;
import lb.control.config.Values;
import lb.control.config.Values.BackendAddress;
import lb.control.config.Values.ServiceAddress;
import lb.control.socket.CommandDispatcher.Output;
import lb.control.socket.RuntimeApi.Announcements;
import lb.control.socket.RuntimeApi.BackendLatency;
import lb.control.socket.RuntimeApi.BackendStats;
import lb.control.socket.RuntimeApi.CheckStatus;
import lb.control.socket.RuntimeApi.DropCount;
import lb.control.socket.RuntimeApi.FlowSample;
import lb.control.socket.RuntimeApi.Info;
import lb.control.socket.RuntimeApi.Latency;
import lb.control.socket.RuntimeApi.MetricFamily;
import lb.control.socket.RuntimeApi.Percentiles;
import lb.control.socket.RuntimeApi.Sample;
import lb.control.socket.RuntimeApi.ServiceStats;
import lb.control.socket.RuntimeApi.Stats;
import lb.control.socket.RuntimeApi.TcpCheckCounters;
import lb.control.socket.RuntimeApi.VipAnnouncement;
import lb.dataplane.pipeline.ForwardingMode;
import lb.dataplane.sched.AdminState;
import lb.dataplane.spread.SpreadPolicy;


/**
 * The commands of the runtime API, registered on a {@link CommandDispatcher} against a
 * {@link RuntimeApi}: they check and convert the arguments, call the API and format its records.
 * Every {@code show} command also answers in JSON with a trailing {@code json} word.
 * <p>
 * JSON keys are snake_case; times in JSON are whole nanoseconds ({@code *_ns}), addresses are
 * dotted-quad strings with the port apart, and states are lower case.
 */
public final class RuntimeCommands
{
    /** Flows {@code show flows} lists when no count is given. */
    public static final int DEFAULT_FLOWS = 100;
    /** The most flows {@code show flows} lists. */
    public static final int MAX_FLOWS = 100_000;

    private final RuntimeApi api;

    private RuntimeCommands(final RuntimeApi api)
    {
        this.api = api;
    }

    /**
     * Registers every runtime command.
     *
     * @param dispatcher where to register them.
     * @param api        what they read and change.
     * @return the dispatcher.
     */
    public static CommandDispatcher register(final CommandDispatcher dispatcher, final RuntimeApi api)
    {
        final RuntimeCommands commands = new RuntimeCommands(api);
        dispatcher
            .register("show info", "", "version, uptime, workers, traffic totals, flow table use",
                Output.TEXT_OR_JSON, arguments -> commands.showInfo())
            .register("show stat", "", "per service and backend: state, weight, flows, packets, bytes, probe RTT",
                Output.TEXT_OR_JSON, arguments -> commands.showStat())
            .register("show drops", "", "dropped frames by reason",
                Output.TEXT_OR_JSON, arguments -> commands.showDrops())
            .register("show routes", "", "per route and next hop: health, active flows, packets, bytes, moves",
                Output.TEXT_OR_JSON, arguments -> commands.showRoutes())
            .register("show flows", "[N]", "a sample of up to N flows (default " + DEFAULT_FLOWS + ", at most " +
                MAX_FLOWS + ")", Output.TEXT_OR_JSON, commands::showFlows)
            .register("show latency", "", "packet processing time and probe RTT percentiles",
                Output.TEXT_OR_JSON, arguments -> commands.showLatency())
            .register("show metrics", "", "all metrics in the Prometheus text format 0.0.4",
                Output.TEXT_OR_JSON, arguments -> commands.showMetrics())
            .register("set weight", "SERVICE BACKEND WEIGHT", "set a backend's weight 0.." + BackendConfig.MAX_WEIGHT +
                " (0: no new flows)", Output.TEXT, commands::setWeight)
            .register("set state", "SERVICE BACKEND ready|drain|maint",
                "ready: takes flows; drain: keeps its flows, takes no new ones; maint: out of service",
                Output.TEXT, commands::setState)
            .register("add backend", "SERVICE IP[:PORT] [WEIGHT]", "add a backend (port: the service's; weight: " +
                ConfigDefaults.WEIGHT + ")", Output.TEXT, commands::addBackend)
            .register("del backend", "SERVICE IP[:PORT]", "remove a backend; its flows end",
                Output.TEXT, commands::delBackend)
            .register("add service", "NAME VIP:PORT/PROTO [SCHEDULER] [MODE] [check=tcp] [check-port=PORT] " +
                "[check-interval=D] [check-timeout=D] [check-rise=N] [check-fall=N]", "add a service without backends (scheduler: " +
                String.join("|", ServiceConfig.SCHEDULERS) + ", default " + ConfigDefaults.SCHEDULER +
                "; mode: nat|dsr|ipip, default " + ConfigDefaults.MODE + "; check=tcp: a TCP check of each backend, every " +
                TcpCheckConfig.DEFAULT_INTERVAL + ", timeout " + TcpCheckConfig.DEFAULT_TIMEOUT + ", rise " +
                TcpCheckConfig.DEFAULT_RISE + ", fall " + TcpCheckConfig.DEFAULT_FALL + ")", Output.TEXT, commands::addService)
            .register("del service", "NAME", "remove a service, its backends and flows",
                Output.TEXT, commands::delService)
            .register("add route", "NAME PREFIX NEXT-HOP[,NEXT-HOP...] [POLICY] [rebalance|GAP]",
                "add a route service spreading PREFIX over next hops (policy: packet|flow-random|flow-hash|least-flows|flowlet, default " +
                ConfigDefaults.ROUTE_POLICY + "; rebalance: least-flows only; GAP: flowlet's idle gap, default " +
                ConfigDefaults.FLOWLET_GAP + ")", Output.TEXT, commands::addRoute)
            .register("del route", "NAME", "remove a route service; its flows end", Output.TEXT, commands::delRoute)
            .register("add next-hop", "ROUTE IP", "add a next hop to a route service", Output.TEXT,
                arguments -> commands.nextHop(arguments, true))
            .register("del next-hop", "ROUTE IP", "remove a next hop; its flows move to the others", Output.TEXT,
                arguments -> commands.nextHop(arguments, false))
            .register("set announce", "on|off", "off: withdraw every VIP from the router (drain this instance); " +
                "on: announce them again", Output.TEXT, commands::setAnnounce);
        return dispatcher;
    }

    private Reply showInfo()
    {
        final Info info = api.info();
        final Fields fields = new Fields()
            .add("version", info.version())
            .add("uptime", Table.cell(formatUptime(info.uptime()), info.uptime().toNanos()), "uptime_ns")
            .add("workers", info.workers())
            .add("rx_packets", info.rxPackets())
            .add("rx_bytes", info.rxBytes())
            .add("tx_packets", info.txPackets())
            .add("tx_bytes", info.txBytes())
            .add("dropped", info.dropped())
            .add("flows", info.flowsUsed())
            .add("flow_capacity", info.flowCapacity())
            .add("flow_table_use", Table.cell(percent(info.flowsUsed(), info.flowCapacity()),
                info.flowCapacity() == 0 ? 0.0 : (double)info.flowsUsed() / info.flowCapacity()))
            .add("flows6", info.flows6())
            .add("flow_capacity6", info.flowCapacity6())
            .add("worker_busy", Table.cell(formatNanos(info.busyNanos()), info.busyNanos()), "worker_busy_ns")
            .add("worker_tx_kick", Table.cell(formatNanos(info.txKickNanos()), info.txKickNanos()), "worker_tx_kick_ns")
            .add("worker_busy_cycles", info.busyCycles())
            .add("worker_sleeps", info.sleeps())
            .add("capacity_pps", info.capacityPps())
            .add("flows_recovered", info.flowsRecovered())
            .add("icmp_errors_forwarded_to_server", info.icmpErrorsToServer())
            .add("icmp_errors_forwarded_to_client", info.icmpErrorsToClient());
        final TcpCheckCounters checks = api.tcpCheckCounters();
        if (checks.checked() > 0 || checks.synsSent() > 0)
        {
            fields.add("tcp_checked_backends", checks.checked())
                .add("tcp_check_syns_sent", checks.synsSent())
                .add("tcp_check_syn_acks", checks.synAcks())
                .add("tcp_check_rsts", checks.rsts())
                .add("tcp_check_timeouts", checks.timeouts())
                .add("tcp_check_resets_sent", checks.resetsSent())
                .add("tcp_check_stale_replies", checks.staleReplies());
        }
        final Announcements announcements = api.announcements();
        if (announcements.configured())
        {
            fields.add("bgp_session", announcements.sessionEstablished() ? "established" : "down")
                .add("announce", announcements.enabled() ? "on" : "off (drained)")
                .add("bird_errors", announcements.errors())
                .add("bird_restarts", announcements.birdRestarts());
            for (final VipAnnouncement vip : announcements.vips())
            {
                fields.add("vip " + IpAddresses.format(vip.vip()), vip.announced() ? "announced" :
                    vip.wanted() ? "withdrawn (announcing)" : "withdrawn", "vip_" + IpAddresses.format(vip.vip()).replace('.', '_'));
            }
        }
        return Reply.of(fields);
    }

    /** A show stat row: service, backend, state, health, check, then the numbers; without the check column, its cell goes. */
    private static void statRow(final Table table, final boolean checkColumn, final Object... cells)
    {
        if (checkColumn)
        {
            table.row(cells);
            return;
        }
        final Object[] without = new Object[cells.length - 1];
        System.arraycopy(cells, 0, without, 0, STAT_CHECK_COLUMN);
        System.arraycopy(cells, STAT_CHECK_COLUMN + 1, without, STAT_CHECK_COLUMN, cells.length - STAT_CHECK_COLUMN - 1);
        table.row(without);
    }

    private static final int STAT_CHECK_COLUMN = 4;

    private static Map<String, Object> checkJson(final CheckStatus check)
    {
        final Map<String, Object> json = new LinkedHashMap<>();
        json.put("state", check.up() ? "up" : "down");
        json.put("in_a_row", check.inARow());
        json.put("needed", check.needed());
        json.put("last", check.last());
        json.put("port", check.port());
        return json;
    }

    private Reply showStat()
    {
        final Stats stats = api.stats();
        // The check column only when some service has a TCP check.
        final boolean checks = stats.services().stream().anyMatch(s -> s.backends().stream().anyMatch(b -> b.check() != null));
        final Table table = new Table()
            .column("service").column("backend").column("state").column("health");
        if (checks)
        {
            table.column("check");
        }
        table.numberColumn("weight").numberColumn("active").numberColumn("new").numberColumn("packets")
            .numberColumn("bytes").numberColumn("probe_rtt");
        final List<Object> services = new ArrayList<>();
        for (final ServiceStats service : stats.services())
        {
            statRow(table, checks, service.name(), serviceKey(service), service.scheduler(), null, null, null,
                service.activeFlows(), service.newFlows(), service.packets(), service.bytes(), null);
            final List<Object> backends = new ArrayList<>();
            for (final BackendStats backend : service.backends())
            {
                statRow(table, checks, service.name(), IpAddresses.endpoint(backend.ip(), backend.port()),
                    lower(backend.adminState()), lower(backend.health()), backend.check() == null ? null : backend.check().summary(),
                    backend.weight(), backend.activeFlows(), backend.newFlows(),
                    backend.packets(), backend.bytes(),
                    backend.lastProbeRttNanos() < 0 ? null : formatNanos(backend.lastProbeRttNanos()));

                final Map<String, Object> json = new LinkedHashMap<>();
                json.put("ip", IpAddresses.format(backend.ip()));
                json.put("port", backend.port());
                json.put("state", lower(backend.adminState()));
                json.put("health", lower(backend.health()));
                json.put("weight", backend.weight());
                json.put("active_flows", backend.activeFlows());
                json.put("new_flows", backend.newFlows());
                json.put("packets", backend.packets());
                json.put("bytes", backend.bytes());
                json.put("last_probe_rtt_ns", backend.lastProbeRttNanos() < 0 ? null : backend.lastProbeRttNanos());
                if (backend.check() != null)
                {
                    json.put("check", checkJson(backend.check()));
                }
                backends.add(json);
            }
            final Map<String, Object> json = new LinkedHashMap<>();
            json.put("name", service.name());
            json.put("vip", IpAddresses.format(service.vip()));
            json.put("port", service.port());
            json.put("protocol", service.protocol().configName());
            json.put("scheduler", service.scheduler());
            json.put("active_flows", service.activeFlows());
            json.put("new_flows", service.newFlows());
            json.put("packets", service.packets());
            json.put("bytes", service.bytes());
            json.put("backends", backends);
            services.add(json);
        }
        // Route services in the same view: the route as the "service", each next hop as a "backend".
        final List<Object> routes = new ArrayList<>();
        for (final RuntimeApi.RouteStats route : api.routes())
        {
            long active = 0;
            long packets = 0;
            long bytes = 0;
            final List<Object> hops = new ArrayList<>();
            for (final RuntimeApi.NextHopStats hop : route.nextHops())
            {
                active += hop.activeFlows();
                packets += hop.packets();
                bytes += hop.bytes();
                final Map<String, Object> json = new LinkedHashMap<>();
                json.put("ip", IpAddresses.format(hop.ip()));
                json.put("health", hop.up() ? "up" : "down");
                json.put("active_flows", hop.activeFlows());
                json.put("packets", hop.packets());
                json.put("bytes", hop.bytes());
                hops.add(json);
            }
            final String policy = policyOf(route);
            statRow(table, checks, route.name(), route.prefix(), policy, null, null, null, active, route.flows(), packets, bytes,
                null);
            for (final RuntimeApi.NextHopStats hop : route.nextHops())
            {
                statRow(table, checks, route.name(), IpAddresses.format(hop.ip()), "next-hop", hop.up() ? "up" : "down", null, null,
                    hop.activeFlows(), null, hop.packets(), hop.bytes(), null);
            }
            final Map<String, Object> json = new LinkedHashMap<>();
            json.put("name", route.name());
            json.put("prefix", route.prefix());
            json.put("policy", policy);
            json.put("active_flows", active);
            json.put("new_flows", route.flows());
            json.put("moves", route.moves());
            json.put("flowlet_switches", route.flowletSwitches());
            json.put("packets", packets);
            json.put("bytes", bytes);
            json.put("next_hops", hops);
            routes.add(json);
        }
        final Map<String, Object> json = new LinkedHashMap<>();
        json.put("sampled_at_ns", stats.sampledAtNanos());
        json.put("services", services);
        json.put("routes", routes);
        final List<RuntimeApi.WorkerTraffic> traffic = api.workerTraffic();
        if (traffic.isEmpty())
        {
            return Reply.of(table.text(), json);
        }
        json.put("workers", workerJson(traffic));
        // No blank line between the tables: an empty line ends an answer on the control socket.
        return Reply.of(table.text() + workerTable(traffic).text(), json);
    }

    /** Each worker's account of the frames it read: rx = tx + answered + drops + to_control, unaccounted 0 when idle. */
    private static Table workerTable(final List<RuntimeApi.WorkerTraffic> traffic)
    {
        final Table table = new Table().numberColumn("worker").numberColumn("rx").numberColumn("tx")
            .numberColumn("answered").numberColumn("to_control").numberColumn("drops").numberColumn("rx_ring_overflow")
            .numberColumn("made_up").numberColumn("unaccounted");
        for (final RuntimeApi.WorkerTraffic w : traffic)
        {
            table.row(w.worker(), w.rxFrames(), w.txFrames(), w.answered(), w.toControl(), w.dropped(), w.kernelDropped(),
                w.madeUp(), w.unaccounted());
        }
        return table;
    }

    private static List<Object> workerJson(final List<RuntimeApi.WorkerTraffic> traffic)
    {
        final List<Object> workers = new ArrayList<>();
        for (final RuntimeApi.WorkerTraffic w : traffic)
        {
            final Map<String, Object> json = new LinkedHashMap<>();
            json.put("worker", w.worker());
            json.put("rx_frames", w.rxFrames());
            json.put("tx_frames", w.txFrames());
            json.put("answered", w.answered());
            json.put("to_control", w.toControl());
            json.put("drops", w.dropped());
            json.put("rx_ring_overflow", w.kernelDropped());
            json.put("made_up", w.madeUp());
            json.put("unaccounted", w.unaccounted());
            workers.add(json);
        }
        return workers;
    }

    private Reply showDrops()
    {
        final Table table = new Table().column("reason").numberColumn("count").column("description");
        for (final DropCount drop : api.drops())
        {
            table.row(drop.name(), drop.count(), drop.description());
        }
        return Reply.of(table);
    }

    private Reply showRoutes()
    {
        final Table table = new Table().column("route").column("prefix").column("policy").column("next_hop")
            .column("health").numberColumn("active_flows").numberColumn("packets").numberColumn("bytes")
            .numberColumn("route_flows").numberColumn("moves").numberColumn("flowlet_switches");
        for (final RuntimeApi.RouteStats route : api.routes())
        {
            final String policy = policyOf(route);
            for (final RuntimeApi.NextHopStats hop : route.nextHops())
            {
                table.row(route.name(), route.prefix(), policy, IpAddresses.format(hop.ip()), hop.up() ? "up" : "down",
                    hop.activeFlows(), hop.packets(), hop.bytes(), route.flows(), route.moves(), route.flowletSwitches());
            }
        }
        return Reply.of(table);
    }

    /** A route's policy as show stat and show routes name it: least-flows+rebalance when rebalancing. */
    private static String policyOf(final RuntimeApi.RouteStats route)
    {
        return route.policy() + (route.rebalance() ? "+rebalance" : "");
    }

    private Reply showFlows(final Arguments arguments)
    {
        final int max = arguments.has(0) ? arguments.parse(0, "N", text -> Values.integer(text, 1, MAX_FLOWS)) :
            DEFAULT_FLOWS;
        final Table table = new Table()
            .column("protocol").column("client_ip").numberColumn("client_port").column("vip").numberColumn("vip_port")
            .column("service").column("backend_ip").numberColumn("backend_port").column("state")
            .numberColumn("age_ns").numberColumn("packets").numberColumn("bytes");
        final List<FlowSample> flows = api.flows(max);
        for (int i = 0; i < flows.size() && i < max; i++)
        {
            final FlowSample flow = flows.get(i);
            table.row(flow.protocol().configName(), IpAddresses.format(flow.clientIp()), flow.clientPort(),
                IpAddresses.format(flow.vip()), flow.vipPort(), flow.service(), IpAddresses.format(flow.backendIp()),
                flow.backendPort(), lower(flow.state()),
                Table.cell(formatNanos(flow.age().toNanos()), flow.age().toNanos()), flow.packets(), flow.bytes());
        }
        // People read "client -> vip -> backend" more easily than six address columns.
        final Table text = new Table()
            .column("proto").column("client").column("vip").column("service").column("backend").column("state")
            .numberColumn("age").numberColumn("packets").numberColumn("bytes");
        for (int i = 0; i < flows.size() && i < max; i++)
        {
            final FlowSample flow = flows.get(i);
            text.row(flow.protocol().configName(), IpAddresses.endpoint(flow.clientIp(), flow.clientPort()),
                IpAddresses.endpoint(flow.vip(), flow.vipPort()), flow.service(),
                IpAddresses.endpoint(flow.backendIp(), flow.backendPort()), lower(flow.state()),
                formatNanos(flow.age().toNanos()), flow.packets(), flow.bytes());
        }
        return Reply.of(text.text(), table.json());
    }

    private Reply showLatency()
    {
        final Latency latency = api.latency();
        final Table table = new Table()
            .column("of").numberColumn("count").numberColumn("p50").numberColumn("p90").numberColumn("p99")
            .numberColumn("p99.9").numberColumn("max");
        percentilesRow(table, "packet processing", latency.packetProcessing());
        final List<Object> probes = new ArrayList<>();
        for (final BackendLatency probe : latency.probes())
        {
            percentilesRow(table, "probe rtt " + probe.service() + " " + IpAddresses.endpoint(probe.ip(), probe.port()),
                probe.probeRtt());
            final Map<String, Object> json = new LinkedHashMap<>();
            json.put("service", probe.service());
            json.put("ip", IpAddresses.format(probe.ip()));
            json.put("port", probe.port());
            json.putAll(percentilesJson(probe.probeRtt()));
            probes.add(json);
        }
        final Map<String, Object> json = new LinkedHashMap<>();
        json.put("packet_processing", percentilesJson(latency.packetProcessing()));
        json.put("probe_rtt", probes);
        return Reply.of(table.text(), json);
    }

    private Reply showMetrics()
    {
        final List<MetricFamily> families = api.metrics();
        final String text = PrometheusText.write(families);
        final List<Object> json = new ArrayList<>();
        for (final MetricFamily family : families)
        {
            final List<Object> samples = new ArrayList<>();
            for (final Sample sample : family.samples())
            {
                final Map<String, Object> entry = new LinkedHashMap<>();
                entry.put("labels", new LinkedHashMap<String, Object>(sample.labels()));
                entry.put("value", sample.value());
                samples.add(entry);
            }
            final Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("name", family.name());
            entry.put("type", lower(family.type()));
            entry.put("help", family.help());
            entry.put("samples", samples);
            json.add(entry);
        }
        return Reply.of(text, json);
    }

    private Reply setWeight(final Arguments arguments)
    {
        final String service = arguments.parse(0, "SERVICE", Values::serviceName);
        final BackendAddress backend = arguments.parse(1, "BACKEND", Values::backendAddress);
        final int weight = arguments.parse(2, "WEIGHT", Values::weight);
        api.setWeight(service, backend, weight);
        return Reply.message(service + " " + format(backend) + ": weight " + weight);
    }

    private Reply setState(final Arguments arguments)
    {
        final String service = arguments.parse(0, "SERVICE", Values::serviceName);
        final BackendAddress backend = arguments.parse(1, "BACKEND", Values::backendAddress);
        final AdminState state = arguments.parse(2, "STATE", RuntimeCommands::adminState);
        api.setState(service, backend, state);
        return Reply.message(service + " " + format(backend) + ": state " + lower(state));
    }

    private Reply addBackend(final Arguments arguments)
    {
        final String service = arguments.parse(0, "SERVICE", Values::serviceName);
        final BackendAddress backend = arguments.parse(1, "IP[:PORT]", Values::backendAddress);
        final int weight = arguments.has(2) ? arguments.parse(2, "WEIGHT", Values::weight) :
            Values.weight(ConfigDefaults.WEIGHT);
        api.addBackend(service, backend, weight);
        return Reply.message(service + ": added backend " + format(backend) + " weight " + weight);
    }

    private Reply delBackend(final Arguments arguments)
    {
        final String service = arguments.parse(0, "SERVICE", Values::serviceName);
        final BackendAddress backend = arguments.parse(1, "IP[:PORT]", Values::backendAddress);
        api.delBackend(service, backend);
        return Reply.message(service + ": removed backend " + format(backend));
    }

    private Reply addService(final Arguments arguments)
    {
        final String name = arguments.parse(0, "NAME", Values::serviceName);
        final ServiceAddress address = arguments.parse(1, "VIP:PORT/PROTO", Values::serviceAddress);
        int next = 2;
        final String scheduler = positional(arguments, next) ? arguments.parse(next++, "SCHEDULER", Values::scheduler) :
            ConfigDefaults.SCHEDULER;
        final ForwardingMode mode = positional(arguments, next) ? arguments.parse(next++, "MODE", Values::mode) :
            ForwardingMode.NAT;
        final TcpCheckConfig check = checkOptions(arguments, next, address);
        api.addService(name, address, scheduler, mode, check);
        return Reply.message("added service " + name + " " + IpAddresses.endpoint(address.vip(), address.port()) + "/" +
            address.protocol().configName() + " scheduler " + scheduler + " mode " + mode.configName() +
            (check == null ? "" : " " + check.describe()));
    }

    /** Whether word {@code index} is there and is a positional argument, not an OPTION=VALUE. */
    private static boolean positional(final Arguments arguments, final int index)
    {
        return arguments.has(index) && arguments.get(index).indexOf('=') < 0;
    }

    /** The check=tcp and check-*=VALUE options from word {@code from} on, or null without check=tcp. */
    private static TcpCheckConfig checkOptions(final Arguments arguments, final int from, final ServiceAddress address)
    {
        final TcpCheckConfig defaults = TcpCheckConfig.defaults();
        boolean on = false;
        int port = defaults.port();
        Duration interval = defaults.interval();
        Duration timeout = defaults.timeout();
        int rise = defaults.rise();
        int fall = defaults.fall();
        String firstOption = null;
        final Set<String> given = new HashSet<>();
        for (int i = from; i < arguments.size(); i++)
        {
            final String word = arguments.get(i);
            final int eq = word.indexOf('=');
            if (eq < 0)
            {
                throw new CommandException("'" + word + "': expected OPTION=VALUE (check=tcp, check-port=PORT, ...) here");
            }
            final String option = word.substring(0, eq);
            final String value = word.substring(eq + 1);
            if (!given.add(option))
            {
                throw new CommandException(option + ": given twice");
            }
            if (!option.equals("check") && firstOption == null)
            {
                firstOption = option;
            }
            switch (option)
            {
                case "check" -> on = checkValue(option, value, Values::checkKind);
                case "check-port" -> port = checkValue(option, value, Values::port);
                case "check-interval" -> interval = checkValue(option, value, Values::duration);
                case "check-timeout" -> timeout = checkValue(option, value, Values::duration);
                case "check-rise" -> rise = checkValue(option, value, Values::checkCount);
                case "check-fall" -> fall = checkValue(option, value, Values::checkCount);
                default -> throw new CommandException("unknown option '" + option + "'" + Values.didYouMean(option, CHECK_OPTIONS) +
                    ", expected one of " + String.join(", ", CHECK_OPTIONS));
            }
        }
        if (!on)
        {
            if (firstOption != null)
            {
                throw new CommandException(firstOption + ": needs check=tcp");
            }
            return null;
        }
        if (address.protocol() == Protocol.UDP && port == TcpCheckConfig.BACKEND_PORT)
        {
            throw new CommandException("check: the service is udp: give check-port=PORT, the TCP port to check");
        }
        return new TcpCheckConfig(port, interval, timeout, rise, fall);
    }

    private static final List<String> CHECK_OPTIONS =
        List.of("check", "check-port", "check-interval", "check-timeout", "check-rise", "check-fall");

    private static <T> T checkValue(final String option, final String value, final Function<String, T> parse)
    {
        try
        {
            return parse.apply(value);
        }
        catch (final IllegalArgumentException ex)
        {
            throw new CommandException("invalid " + option + ": " + ex.getMessage());
        }
    }

    private Reply addRoute(final Arguments arguments)
    {
        final String name = arguments.parse(0, "NAME", Values::serviceName);
        final RoutePrefix prefix = arguments.parse(1, "PREFIX", RoutePrefix::parse);
        final List<Integer> hops = arguments.parse(2, "NEXT-HOP", RuntimeCommands::addresses);
        final SpreadPolicy policy = arguments.has(3) ? arguments.parse(3, "POLICY", Values::spreadPolicy) :
            Values.spreadPolicy(ConfigDefaults.ROUTE_POLICY);
        final boolean rebalance = arguments.has(4) && policy == SpreadPolicy.LEAST_FLOWS &&
            arguments.parse(4, "rebalance|GAP", RuntimeCommands::rebalanceWord);
        final Duration gap = arguments.has(4) && policy == SpreadPolicy.FLOWLET ?
            arguments.parse(4, "rebalance|GAP", Values::duration) : Values.duration(ConfigDefaults.FLOWLET_GAP);
        if (arguments.has(4) && policy != SpreadPolicy.LEAST_FLOWS && policy != SpreadPolicy.FLOWLET)
        {
            throw new CommandException("invalid rebalance|GAP: policy " + policy.configName() +
                " takes no option ('rebalance' is for least-flows, a gap for flowlet)");
        }
        api.addRoute(new RouteConfig(name, prefix, hops, policy, rebalance, gap));
        return Reply.message("added route " + name + " " + prefix + " policy " + policy.configName() +
            (rebalance ? " rebalance on" : "") + (policy == SpreadPolicy.FLOWLET ? " flowlet-gap " + Values.formatDuration(gap) : "") +
            " next hops " + arguments.get(2));
    }

    /** Comma-separated addresses, IPv4 or IPv6. */
    private static List<Integer> addresses(final String text)
    {
        final List<Integer> ips = new ArrayList<>();
        for (final String ip : text.split(",", -1))
        {
            ips.add(IpAddresses.parse(ip));
        }
        return ips;
    }

    private static boolean rebalanceWord(final String text)
    {
        if (!text.equals("rebalance"))
        {
            throw new IllegalArgumentException("policy least-flows takes 'rebalance', got '" + text + "'");
        }
        return true;
    }

    private Reply delRoute(final Arguments arguments)
    {
        final String name = arguments.parse(0, "NAME", Values::serviceName);
        api.delRoute(name);
        return Reply.message("removed route " + name);
    }

    private Reply nextHop(final Arguments arguments, final boolean add)
    {
        final String route = arguments.parse(0, "ROUTE", Values::serviceName);
        final int ip = arguments.parse(1, "IP", IpAddresses::parse);
        if (add)
        {
            api.addNextHop(route, ip);
            return Reply.message("added next hop " + IpAddresses.format(ip) + " to route " + route);
        }
        api.delNextHop(route, ip);
        return Reply.message("removed next hop " + IpAddresses.format(ip) + " from route " + route);
    }

    private Reply setAnnounce(final Arguments arguments)
    {
        final boolean on = arguments.parse(0, "on|off", Values::onOff);
        api.setAnnounce(on);
        return Reply.message(on ? "announce on: VIPs with a healthy backend are announced" :
            "announce off: every VIP withdrawn");
    }

    private Reply delService(final Arguments arguments)
    {
        final String name = arguments.parse(0, "NAME", Values::serviceName);
        api.delService(name);
        return Reply.message("removed service " + name);
    }

    private static AdminState adminState(final String text)
    {
        for (final AdminState state : AdminState.values())
        {
            if (lower(state).equals(text))
            {
                return state;
            }
        }
        throw new IllegalArgumentException("expected ready, drain or maint, got '" + text + "'");
    }

    private static void percentilesRow(final Table table, final String of, final Percentiles percentiles)
    {
        if (percentiles.count() == 0)
        {
            table.row(of, 0L, null, null, null, null, null);
            return;
        }
        table.row(of, percentiles.count(), formatNanos(percentiles.p50Nanos()), formatNanos(percentiles.p90Nanos()),
            formatNanos(percentiles.p99Nanos()), formatNanos(percentiles.p999Nanos()),
            formatNanos(percentiles.maxNanos()));
    }

    private static Map<String, Object> percentilesJson(final Percentiles percentiles)
    {
        final Map<String, Object> json = new LinkedHashMap<>();
        json.put("count", percentiles.count());
        json.put("p50_ns", percentiles.p50Nanos());
        json.put("p90_ns", percentiles.p90Nanos());
        json.put("p99_ns", percentiles.p99Nanos());
        json.put("p99_9_ns", percentiles.p999Nanos());
        json.put("max_ns", percentiles.maxNanos());
        return json;
    }

    private static String serviceKey(final ServiceStats service)
    {
        return IpAddresses.endpoint(service.vip(), service.port()) + "/" + service.protocol().configName();
    }

    private static String format(final BackendAddress backend)
    {
        return Values.formatBackend(backend.ip(), backend.port());
    }

    private static String lower(final Enum<?> value)
    {
        return value.name().toLowerCase(Locale.ROOT);
    }

    private static String percent(final long part, final long whole)
    {
        return whole == 0 ? "-" : String.format(Locale.ROOT, "%.1f%%", 100.0 * part / whole);
    }

    /**
     * @param nanos a time in nanoseconds.
     * @return it with a unit people read at a glance: {@code 850ns}, {@code 12.3us}, {@code 4.56ms}, {@code 1.23s}.
     */
    public static String formatNanos(final long nanos)
    {
        if (nanos < 1_000L)
        {
            return nanos + "ns";
        }
        if (nanos < 1_000_000L)
        {
            return String.format(Locale.ROOT, "%.1fus", nanos / 1e3);
        }
        if (nanos < 1_000_000_000L)
        {
            return String.format(Locale.ROOT, "%.2fms", nanos / 1e6);
        }
        return String.format(Locale.ROOT, "%.2fs", nanos / 1e9);
    }

    /**
     * @param uptime a duration.
     * @return for example {@code 3d 4h 5m 6s}, leading zero units left out.
     */
    public static String formatUptime(final Duration uptime)
    {
        long seconds = uptime.toSeconds();
        final long days = seconds / 86_400;
        seconds %= 86_400;
        final long hours = seconds / 3_600;
        seconds %= 3_600;
        final long minutes = seconds / 60;
        seconds %= 60;
        if (days > 0)
        {
            return days + "d " + hours + "h " + minutes + "m " + seconds + "s";
        }
        if (hours > 0)
        {
            return hours + "h " + minutes + "m " + seconds + "s";
        }
        if (minutes > 0)
        {
            return minutes + "m " + seconds + "s";
        }
        return seconds + "s";
    }
}
