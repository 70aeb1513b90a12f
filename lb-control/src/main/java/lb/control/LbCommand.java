package lb.control;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.BiConsumer;
import java.util.function.Function;

import lb.control.announce.BirdConfig;
import lb.control.config.ConfigDefaults;
import lb.control.config.ConfigException;
import lb.control.config.ConfigParser;
import lb.control.config.ConfigWriter;
import lb.control.config.IpAddresses;
import lb.control.config.Ipv4Prefix;
import lb.control.config.Ipv6Prefix;
import lb.control.config.LbConfig;
import lb.control.config.LbConfigBuilder;
import lb.control.config.Origin;
import lb.control.config.RoutePrefix;
import lb.control.config.ServiceConfig;
import lb.control.config.TcpCheckConfig;
import lb.control.config.Values;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.UnmatchedArgumentException;

/**
 * The {@code lb} command line: reads the config file if one is given, lets flags override its
 * global settings (or define a whole service with {@code --vip} and {@code --backends}), checks
 * the result and hands the {@link LbConfig} to an {@link ApplianceLauncher}.
 * <p>
 * Every error is one line on stderr that names the flag, or the file, line and field. A bad flag
 * is a usage error (exit 2, followed by a hint to {@code --help}); a bad config file exits 78
 * (EX_CONFIG of sysexits.h).
 */
@Command(
    name = "lb",
    mixinStandardHelpOptions = true,
    versionProvider = LbCommand.Version.class,
    sortOptions = false,
    abbreviateSynopsis = true,
    usageHelpWidth = 100,
    description = {
        "A two-armed NAT layer-4 load balancer (like IPVS-NAT) in user space.",
        "Clients reach VIP:PORT on the client-side interface; lb picks a backend per flow and forwards " +
            "to it on the server-side interface, where lb owns the gateway address the backends route through. " +
            "Backend MACs are learned by ARP probes.",
        "",
        "Give a config file with --config, or everything with flags. Flags override the file's global " +
            "settings (and a repeated flag, the earlier one); --vip with --backends adds one more service named vip0.",
        ""},
    footer = {
        "",
        "Durations take a unit: 500ms, 5s, 2m, 1h.",
        "Example:",
        "  lb --client-if cli0 --server-if srv0 --client-ip 198.18.0.1 --gateway-ip 198.18.1.1 \\",
        "     --vip 198.18.0.100:80/tcp --backends 198.18.1.11,198.18.1.12:8080 --scheduler wrr --weights 3,1",
        "  lb --config /etc/lb/lb.conf --workers 2",
        "Exit status: 0 after a clean stop or --check, 2 for a usage error, 78 for a config file error."})
public final class LbCommand implements Callable<Integer>
{
    /** Exit status of a command-line usage error (picocli's convention). */
    public static final int EXIT_USAGE = CommandLine.ExitCode.USAGE;
    /** Exit status of a config file error: EX_CONFIG of sysexits.h. */
    public static final int EXIT_CONFIG = 78;
    /** Name of the service that {@code --vip} defines. */
    public static final String FLAG_SERVICE_NAME = "vip0";
    /** The name of the route that --route defines. */
    public static final String FLAG_ROUTE_NAME = "route0";

    private final ApplianceLauncher launcher;

    @Spec
    private CommandSpec spec;

    @Option(names = {"-c", "--config"}, paramLabel = "FILE", description =
        "Config file (format: docker/lb.conf in the source tree). Flags given as well override its " +
        "global settings.")
    private Path configFile;

    @Option(names = "--check", description =
        "Check the configuration, print it with every default spelt out, and exit without starting.")
    private boolean check;

    @Option(names = "--client-if", paramLabel = "NAME", description =
        "Client-side interface, where clients reach the VIPs. Required (here or in the file).")
    private String clientInterface;

    @Option(names = "--server-if", paramLabel = "NAME", description =
        "Server-side interface, where the backends are. Required.")
    private String serverInterface;

    @Option(names = "--client-ip", paramLabel = "IP", description =
        "lb's own address on the client side, distinct from the VIPs. Required.")
    private String clientIp;

    @Option(names = "--gateway-ip", paramLabel = "IP", description =
        "lb's address on the server side. The backends must use it as their default route, so their " +
        "replies come back through lb to be translated. Required.")
    private String gatewayIp;

    @Option(names = "--client-ip6", paramLabel = "IPV6", description =
        "lb's own IPv6 address on the client side (answers neighbour solicitations and ping), such as 2001:2::1. " +
        "Needed by IPv6 services, with --gateway-ip6.")
    private String clientIp6;

    @Option(names = "--gateway-ip6", paramLabel = "IPV6", description =
        "lb's IPv6 address on the server side, such as 2001:2:0:1::1: the IPv6 backends' default route and the " +
        "source of the neighbour solicitations that probe them. Needed by IPv6 services.")
    private String gatewayIp6;

    @Option(names = "--server-network6", paramLabel = "PREFIX", description =
        "The server-side IPv6 LAN, such as 2001:2:0:1::/64: every IPv6 backend must be on it. Needed by IPv6 dsr services.")
    private String serverNetwork6;

    @Option(names = "--flow-table-size6", paramLabel = "N", defaultValue = ConfigDefaults.FLOW_TABLE_SIZE6,
        description = "Entries of the IPv6 flow table, 1024..8388608, split over the workers like --flow-capacity; " +
        "a NAT flow takes two. 128-byte slots, about 170.7 bytes per entry. Made only with --gateway-ip6. " +
        "Default: ${DEFAULT-VALUE}.")
    private String flowTableSize6;

    @Option(names = "--vip", paramLabel = "VIP:PORT/PROTO", description =
        "Define one service (named " + FLAG_SERVICE_NAME + ") that clients reach at this address, such as " +
        "198.18.0.100:80/tcp, or [2001:2::100]:80/tcp for IPv6. Needs --backends. With --config it must not clash with a service in the file.")
    private String vip;

    @Option(names = "--backends", paramLabel = "IP[:PORT],...", description =
        "Backends of the --vip service, comma-separated; a backend given without a port gets the " +
        "service port. IPv6 backends (of an IPv6 --vip) bare or with a port in brackets: " +
        "2001:2:0:1::11,[2001:2:0:1::12]:8080.")
    private String backends;

    @Option(names = "--scheduler", paramLabel = "NAME", defaultValue = ConfigDefaults.SCHEDULER, description =
        "Scheduler of the --vip service: random, rr (round robin), wrr (weighted rr), lc (least " +
        "connections), wlc (weighted lc), sh (source hash: a client keeps its backend), maglev " +
        "(consistent hash: few flows move when backends change). Default: ${DEFAULT-VALUE}.")
    private String scheduler;

    @Option(names = "--mode", paramLabel = "MODE", defaultValue = ConfigDefaults.MODE, description =
        "How the --vip service reaches its backends: nat (two-armed NAT, replies through lb), dsr (direct " +
        "server return: lb rewrites only MACs, backends hold the VIP and answer clients directly; needs " +
        "--server-network, no port mapping), ipip (IP-in-IP to the backend, which unwraps it and answers " +
        "directly). Default: ${DEFAULT-VALUE}.")
    private String mode;

    @Option(names = "--tcp-check", description =
        "Give the --vip service a TCP health check: a half-open SYN from the gateway address to each backend's " +
        "port; a SYN-ACK passes (lb resets the connection at once), an RST or silence fails. A backend takes new " +
        "flows only while ARP finds it and its check passes.")
    private boolean tcpCheck;

    @Option(names = "--check-port", paramLabel = "PORT", description =
        "With --tcp-check: the port checked. Default: each backend's own port.")
    private String checkPort;

    @Option(names = "--check-interval", paramLabel = "DURATION", defaultValue = TcpCheckConfig.DEFAULT_INTERVAL,
        description = "With --tcp-check: from one check of a backend to the next. Default: ${DEFAULT-VALUE}.")
    private String checkInterval;

    @Option(names = "--check-timeout", paramLabel = "DURATION", defaultValue = TcpCheckConfig.DEFAULT_TIMEOUT,
        description = "With --tcp-check: how long a check waits for the SYN-ACK or RST. Default: ${DEFAULT-VALUE}.")
    private String checkTimeout;

    @Option(names = "--check-rise", paramLabel = "N", defaultValue = TcpCheckConfig.DEFAULT_RISE, description =
        "With --tcp-check: passes in a row that bring a failed backend back, 1..100. Default: ${DEFAULT-VALUE}.")
    private String checkRise;

    @Option(names = "--check-fall", paramLabel = "N", defaultValue = TcpCheckConfig.DEFAULT_FALL, description =
        "With --tcp-check: failures in a row that take a backend out, 1..100. Default: ${DEFAULT-VALUE}. A backend " +
        "whose service dies is out within fall x interval + timeout.")
    private String checkFall;

    @Option(names = "--route", paramLabel = "PREFIX", description =
        "Define one route service (named " + FLAG_ROUTE_NAME + "): lb is the clients' router for this prefix, " +
        "such as 198.19.0.0/16 or 2001:2:0:3::/64, and spreads it over --next-hops with no address translation. Needs " +
        "--server-network (an IPv6 prefix: --client-ip6, --gateway-ip6 and --server-network6).")
    private String route;

    @Option(names = "--next-hops", paramLabel = "IP,...", description =
        "Next-hop routers of the --route service on the server-side LAN, comma-separated, up to 16; of the prefix's family.")
    private String nextHops;

    @Option(names = "--spread", paramLabel = "POLICY", defaultValue = ConfigDefaults.ROUTE_POLICY, description =
        "How the --route service spreads over its next hops: packet (round robin per packet), flow-random " +
        "(each new flow at random), flow-hash (resilient hash of the 5-tuple, like Linux ECMP), least-flows " +
        "(a new flow takes the hop with the fewest), flowlet (a flow may move after an idle gap). " +
        "Default: ${DEFAULT-VALUE}.")
    private String spread;

    @Option(names = "--rebalance", description =
        "With --spread least-flows: when a flow ends and the hops' flow counts differ by 2 or more, move one " +
        "flow from the fullest to the emptiest.")
    private boolean rebalance;

    @Option(names = "--flowlet-gap", paramLabel = "DURATION", defaultValue = ConfigDefaults.FLOWLET_GAP, description =
        "With --spread flowlet: the idle gap after which a flow may take another next hop; longer than the " +
        "paths' delay difference. Default: ${DEFAULT-VALUE}.")
    private String flowletGap;

    @Option(names = "--server-network", paramLabel = "PREFIX", description =
        "The server-side LAN, such as 198.18.1.0/24: every backend must be on it. Needed by dsr services.")
    private String serverNetwork;

    @Option(names = "--weights", paramLabel = "W,W,...", description =
        "Weights 0..10000 of the --backends, in order, one per backend (0 drains a backend). " +
        "Default: " + ConfigDefaults.WEIGHT + " each.")
    private String weights;

    @Option(names = "--probe-interval", paramLabel = "DURATION", defaultValue = ConfigDefaults.PROBE_INTERVAL,
        description = "One ARP probe cycle across all backends: probes are spread over it. Probes learn " +
        "backend MACs and find dead backends. Default: ${DEFAULT-VALUE}.")
    private String probeInterval;

    @Option(names = "--probe-timeout", paramLabel = "DURATION", defaultValue = ConfigDefaults.PROBE_TIMEOUT,
        description = "How long a probe waits for its reply (see --probe-retries). " +
        "Default: ${DEFAULT-VALUE}.")
    private String probeTimeout;

    @Option(names = "--probe-retries", paramLabel = "N", defaultValue = ConfigDefaults.PROBE_RETRIES,
        description = "Probes sent again at once when one goes unanswered (0..10); a backend is down only when " +
        "all go unanswered, so one lost frame does not take it out. Default: ${DEFAULT-VALUE}.")
    private String probeRetries;

    @Option(names = "--timeout-tcp-syn", paramLabel = "DURATION", defaultValue = ConfigDefaults.TIMEOUT_TCP_SYN,
        description = "Idle timeout of a TCP flow that has seen only a SYN; short, so SYN floods do not " +
        "fill the flow table. Default: ${DEFAULT-VALUE}.")
    private String timeoutTcpSyn;

    @Option(names = "--timeout-tcp-established", paramLabel = "DURATION",
        defaultValue = ConfigDefaults.TIMEOUT_TCP_ESTABLISHED,
        description = "Idle timeout of an established TCP flow. Default: ${DEFAULT-VALUE}.")
    private String timeoutTcpEstablished;

    @Option(names = "--timeout-tcp-closing", paramLabel = "DURATION", defaultValue = ConfigDefaults.TIMEOUT_TCP_CLOSING,
        description = "Idle timeout of a TCP flow after FIN or RST. Default: ${DEFAULT-VALUE}.")
    private String timeoutTcpClosing;

    @Option(names = "--timeout-udp", paramLabel = "DURATION", defaultValue = ConfigDefaults.TIMEOUT_UDP,
        description = "Idle timeout of a UDP flow. Default: ${DEFAULT-VALUE}.")
    private String timeoutUdp;

    @Option(names = "--flow-capacity", paramLabel = "N", defaultValue = ConfigDefaults.FLOW_CAPACITY,
        description = "Flows the flow table holds, 1024..12500000: size it for the concurrent flows at " +
        "peak, since a full table cannot take new ones. Default: ${DEFAULT-VALUE}.")
    private String flowCapacity;

    @Option(names = "--idle-strategy", paramLabel = "backoff|spin|yield", defaultValue = ConfigDefaults.IDLE_STRATEGY,
        description = "What a worker does when it finds no packets: spin (lowest latency, burns its " +
        "core), yield, or backoff (spin for --idle-spin, then sleep in poll() until a packet " +
        "arrives). Default: ${DEFAULT-VALUE}.")
    private String idleStrategy;

    @Option(names = "--idle-spin", paramLabel = "0|DURATION", defaultValue = ConfigDefaults.IDLE_SPIN,
        description = "With backoff: how long a worker spins on empty rings before it sleeps (0 sleeps at " +
        "once: least CPU, a wake-up per burst; longer: fewer wake-ups and lower latency, more CPU), " +
        "in us or ms, at most 10ms. Default: ${DEFAULT-VALUE}.")
    private String idleSpin;

    @Option(names = "--rx-ring", paramLabel = "v2|v3", defaultValue = ConfigDefaults.RX_RING_VERSION,
        description = "Receive ring layout: v2 hands over each packet at once (lower latency at low " +
        "load), v3 hands over blocks (fewer wake-ups at high load). Default: ${DEFAULT-VALUE}.")
    private String rxRing;

    @Option(names = "--rx-frame-size", paramLabel = "BYTES", defaultValue = ConfigDefaults.RX_FRAME_SIZE,
        description = "Receive ring slot size, a power of two 256..65536, including the kernel's frame " +
        "header; bigger packets are dropped as truncated. Not used while GSO forwarding is on (always, in this " +
        "build: slots are then 64 KiB). Default: ${DEFAULT-VALUE}.")
    private String rxFrameSize;

    @Option(names = "--rx-frame-count", paramLabel = "N", defaultValue = ConfigDefaults.RX_FRAME_COUNT,
        description = "Receive ring slots, a power of two 16..1048576: how large a burst is absorbed. " +
        "Not used while GSO forwarding is on (1440 slots of 64 KiB). Default: ${DEFAULT-VALUE}.")
    private String rxFrameCount;

    @Option(names = "--workers", paramLabel = "N", defaultValue = ConfigDefaults.WORKERS,
        description = "Dataplane worker threads, 1..64, each with its own sockets and flow table. " +
        "Default: ${DEFAULT-VALUE}.")
    private String workers;

    @Option(names = "--worker-cpus", paramLabel = "none|CPU[,CPU...]", defaultValue = ConfigDefaults.WORKER_CPUS,
        description = "Pin worker i to the i-th CPU (one per worker, e.g. 2,3), so it keeps its caches and " +
        "can have a core to itself; keep the JVM's other threads off those CPUs with taskset. " +
        "Default: ${DEFAULT-VALUE}.")
    private String workerCpus;

    @Option(names = "--control-socket", paramLabel = "PATH", defaultValue = ConfigDefaults.CONTROL_SOCKET,
        description = "Unix socket of the control interface; at most 107 bytes, the limit of a unix " +
        "socket address. Default: ${DEFAULT-VALUE}.")
    private String controlSocket;

    /**
     * @param launcher runs the appliance once the configuration is valid.
     */
    public LbCommand(final ApplianceLauncher launcher)
    {
        this.launcher = launcher;
    }

    /**
     * Parses the arguments and runs the appliance.
     *
     * @param launcher runs the appliance once the configuration is valid.
     * @param args     the command-line arguments.
     * @return the exit status.
     */
    public static int run(final ApplianceLauncher launcher, final String... args)
    {
        return commandLine(launcher).execute(args);
    }

    /**
     * @param launcher runs the appliance once the configuration is valid.
     * @return the picocli command line, set up to report a bad argument in one line.
     */
    public static CommandLine commandLine(final ApplianceLauncher launcher)
    {
        final CommandLine commandLine = new CommandLine(new LbCommand(launcher));
        commandLine.setParameterExceptionHandler(LbCommand::reportUsageError);
        // The last of a repeated flag wins, so a script can append overrides to a fixed set of flags.
        commandLine.setOverwrittenOptionsAllowed(true);
        return commandLine;
    }

    /** Checks the configuration and hands it to the launcher; reports config errors in one line. */
    @Override
    public Integer call() throws Exception
    {
        final LbConfig config;
        try
        {
            config = configure();
        }
        catch (final ConfigException ex)
        {
            final PrintWriter err = spec.commandLine().getErr();
            err.println("lb: " + ex.getMessage());
            if (ex.isCommandLine())
            {
                err.println("try 'lb --help'");
                err.flush();
                return EXIT_USAGE;
            }
            err.flush();
            return EXIT_CONFIG;
        }

        if (check)
        {
            final PrintWriter out = spec.commandLine().getOut();
            out.print(ConfigWriter.format(config));
            if (config.bgp() != null)
            {
                // What lb will hand its BIRD, as comments so the output stays a valid lb config.
                out.println();
                out.println("# BIRD config lb writes to " + config.bgp().runDir().resolve("bird.conf") + ":");
                final String bird = BirdConfig.render(config.bgp(),
                    config.services().stream().map(ServiceConfig::vip).distinct().toList(),
                    config.bgp().runDir().resolve("bird.log").toString());
                bird.lines().forEach(line -> out.println("#   " + line));
            }
            out.flush();
            return CommandLine.ExitCode.OK;
        }
        return launcher.launch(config);
    }

    private LbConfig configure()
    {
        final LbConfigBuilder builder = configFile != null ? ConfigParser.read(configFile) : new LbConfigBuilder();

        override("--client-if", clientInterface, Values::interfaceName, builder::clientInterface);
        override("--server-if", serverInterface, Values::interfaceName, builder::serverInterface);
        override("--client-ip", clientIp, IpAddresses::parseIpv4, builder::clientIp);
        override("--gateway-ip", gatewayIp, IpAddresses::parseIpv4, builder::gatewayIp);
        override("--client-ip6", clientIp6, IpAddresses::parseIpv6, builder::clientIp6);
        override("--gateway-ip6", gatewayIp6, IpAddresses::parseIpv6, builder::gatewayIp6);
        override("--server-network6", serverNetwork6, Ipv6Prefix::parse, builder::serverNetwork6);
        override("--flow-table-size6", flowTableSize6, Values::flowTableSize6, builder::flowTableSize6);
        override("--probe-interval", probeInterval, Values::duration, builder::probeInterval);
        override("--probe-timeout", probeTimeout, Values::duration, builder::probeTimeout);
        override("--probe-retries", probeRetries, Values::probeRetries, builder::probeRetries);
        override("--timeout-tcp-syn", timeoutTcpSyn, Values::duration, builder::timeoutTcpSyn);
        override("--timeout-tcp-established", timeoutTcpEstablished, Values::duration,
            builder::timeoutTcpEstablished);
        override("--timeout-tcp-closing", timeoutTcpClosing, Values::duration, builder::timeoutTcpClosing);
        override("--timeout-udp", timeoutUdp, Values::duration, builder::timeoutUdp);
        override("--flow-capacity", flowCapacity, Values::flowCapacity, builder::flowCapacity);
        override("--idle-strategy", idleStrategy, Values::idleStrategy, builder::idleStrategy);
        override("--idle-spin", idleSpin, Values::idleSpin, builder::idleSpin);
        override("--worker-cpus", workerCpus, Values::workerCpus, builder::workerCpus);
        override("--rx-ring", rxRing, Values::ringVersion, builder::rxRingVersion);
        override("--rx-frame-size", rxFrameSize, Values::frameSize, builder::rxFrameSize);
        override("--rx-frame-count", rxFrameCount, Values::frameCount, builder::rxFrameCount);
        override("--workers", workers, Values::workers, builder::workers);
        override("--control-socket", controlSocket, Values::controlSocket, builder::controlSocket);
        override("--server-network", serverNetwork, Ipv4Prefix::parse, builder::serverNetwork);
        addFlagService(builder);
        addFlagRoute(builder);

        return builder.build();
    }

    /** Defines the service of --vip, --backends, --scheduler and --weights, if --vip is given. */
    private void addFlagService(final LbConfigBuilder builder)
    {
        if (!defines("--vip", vip, "--backends", backends, "service", "--scheduler", "--weights", "--mode",
            "--tcp-check", "--check-port", "--check-interval", "--check-timeout", "--check-rise", "--check-fall"))
        {
            return;
        }
        if (!tcpCheck)
        {
            for (final String option : List.of("--check-port", "--check-interval", "--check-timeout", "--check-rise", "--check-fall"))
            {
                if (given(option))
                {
                    throw usage(option, "needs --tcp-check");
                }
            }
        }

        final Values.ServiceAddress address = convert("--vip", vip, Values::serviceAddress);
        final List<Values.BackendAddress> backendAddresses = new ArrayList<>();
        for (final String backend : backends.split(",", -1))
        {
            backendAddresses.add(convert("--backends", backend, Values::backendAddress));
        }
        final List<Integer> backendWeights = new ArrayList<>();
        if (weights != null)
        {
            for (final String weight : weights.split(",", -1))
            {
                backendWeights.add(convert("--weights", weight, Values::weight));
            }
            if (backendWeights.size() != backendAddresses.size())
            {
                throw usage("--weights", backendWeights.size() + plural(backendWeights.size(), " weight") + " for " +
                    backendAddresses.size() + plural(backendAddresses.size(), " backend"));
            }
        }

        final LbConfigBuilder.ServiceDraft service =
            builder.addService(FLAG_SERVICE_NAME, address, Origin.flag("--vip"));
        service.scheduler(convert("--scheduler", scheduler, Values::scheduler), Origin.flag("--scheduler"));
        service.mode(convert("--mode", mode, Values::mode), Origin.flag("--mode"));
        if (tcpCheck)
        {
            service.check(true, Origin.flag("--tcp-check"));
            if (checkPort != null)
            {
                service.checkPort(convert("--check-port", checkPort, Values::port), Origin.flag("--check-port"));
            }
            service.checkInterval(convert("--check-interval", checkInterval, Values::duration), Origin.flag("--check-interval"));
            service.checkTimeout(convert("--check-timeout", checkTimeout, Values::duration), Origin.flag("--check-timeout"));
            service.checkRise(convert("--check-rise", checkRise, Values::checkCount), Origin.flag("--check-rise"));
            service.checkFall(convert("--check-fall", checkFall, Values::checkCount), Origin.flag("--check-fall"));
        }
        final int defaultWeight = Values.weight(ConfigDefaults.WEIGHT);
        for (int i = 0; i < backendAddresses.size(); i++)
        {
            service.addBackend(
                backendAddresses.get(i),
                weights == null ? defaultWeight : backendWeights.get(i),
                Origin.flag("--backends"));
        }
    }

    /** Defines the route of --route, --next-hops, --spread, --rebalance and --flowlet-gap, if --route is given. */
    private void addFlagRoute(final LbConfigBuilder builder)
    {
        if (!defines("--route", route, "--next-hops", nextHops, "route", "--spread", "--rebalance", "--flowlet-gap"))
        {
            return;
        }
        final LbConfigBuilder.RouteDraft draft =
            builder.addRoute(FLAG_ROUTE_NAME, convert("--route", route, RoutePrefix::parse), Origin.flag("--route"));
        for (final String hop : nextHops.split(",", -1))
        {
            draft.nextHop(convert("--next-hops", hop, IpAddresses::parse), Origin.flag("--next-hops"));
        }
        draft.policy(convert("--spread", spread, Values::spreadPolicy), Origin.flag("--spread"));
        if (rebalance)
        {
            draft.rebalance(true, Origin.flag("--rebalance"));
        }
        if (given("--flowlet-gap"))
        {
            draft.flowletGap(convert("--flowlet-gap", flowletGap, Values::duration), Origin.flag("--flowlet-gap"));
        }
    }

    /**
     * Whether the flags define a service or route: its defining flag is given, with the one it
     * needs; the flags that only belong to it are usage errors without it.
     */
    private boolean defines(final String flag, final String value, final String neededFlag, final String neededValue,
        final String what, final String... belonging)
    {
        if (value == null)
        {
            for (final String other : concat(neededFlag, belonging))
            {
                if (given(other))
                {
                    throw usage(other, "needs " + flag + " (it belongs to the " + what + " that " + flag + " defines)");
                }
            }
            return false;
        }
        if (neededValue == null)
        {
            throw usage(flag, "needs " + neededFlag);
        }
        return true;
    }

    private static List<String> concat(final String first, final String... rest)
    {
        final List<String> all = new ArrayList<>(List.of(rest));
        all.add(0, first);
        return all;
    }

    private <T> void override(
        final String flag, final String text, final Function<String, T> parse, final BiConsumer<T, Origin> set)
    {
        if (given(flag))
        {
            set.accept(convert(flag, text, parse), Origin.flag(flag));
        }
    }

    private boolean given(final String flag)
    {
        return spec.commandLine().getParseResult().hasMatchedOption(flag);
    }

    private static <T> T convert(final String flag, final String text, final Function<String, T> parse)
    {
        try
        {
            return parse.apply(text);
        }
        catch (final IllegalArgumentException ex)
        {
            throw usage(flag, ex.getMessage());
        }
    }

    private static ConfigException usage(final String flag, final String problem)
    {
        return new ConfigException(Origin.flag(flag), flag, problem);
    }

    private static String plural(final int count, final String noun)
    {
        return count == 1 ? noun : noun + "s";
    }

    /** picocli's usage errors, in one line plus a hint, instead of the whole usage text. */
    private static int reportUsageError(final ParameterException ex, final String[] args)
    {
        final PrintWriter err = ex.getCommandLine().getErr();
        String message = ex.getMessage();
        if (ex instanceof UnmatchedArgumentException unmatched)
        {
            // picocli's own suggestions match loose prefixes ("--weird": "--weights"); suggest by edit distance.
            final List<String> optionNames = new ArrayList<>();
            for (final OptionSpec option : ex.getCommandLine().getCommandSpec().options())
            {
                optionNames.addAll(List.of(option.names()));
            }
            for (final String argument : unmatched.getUnmatched())
            {
                if (argument.startsWith("-"))
                {
                    message += Values.didYouMean(argument.split("=", 2)[0], optionNames);
                    break;
                }
            }
        }
        err.println("lb: " + message);
        err.println("try 'lb --help'");
        err.flush();
        return EXIT_USAGE;
    }

    /** The version from the jar manifest, which the build writes. */
    static final class Version implements CommandLine.IVersionProvider
    {
        @Override
        public String[] getVersion()
        {
            final String version = LbCommand.class.getPackage().getImplementationVersion();
            return new String[] {"lb " + (version != null ? version : "(development build)")};
        }
    }
}
