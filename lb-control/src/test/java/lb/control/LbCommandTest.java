package lb.control;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import lb.control.config.BackendConfig;
import lb.control.config.ConfigParser;
import lb.control.config.FlowTimeouts;
import lb.control.config.IdleStrategyKind;
import lb.control.config.IpAddresses;
import lb.control.config.Ipv4Prefix;
import lb.control.config.Ipv6Prefix;
import lb.control.config.LbConfig;
import lb.control.config.ProbeConfig;
import lb.control.config.Protocol;
import lb.control.config.RingVersion;
import lb.control.config.RouteConfig;
import lb.control.config.RxRingConfig;
import lb.control.config.ServiceConfig;
import lb.control.config.TcpCheckConfig;
import lb.dataplane.pipeline.ForwardingMode;
import lb.dataplane.spread.SpreadPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;
import picocli.CommandLine.Model.OptionSpec;

class LbCommandTest
{
    private static final String[] REQUIRED = {
        "--client-if", "cli0", "--server-if", "srv0", "--client-ip", "198.18.0.1", "--gateway-ip", "198.18.1.1"};

    private static final String FILE = String.join("\n",
        "client-interface cli0",
        "server-interface srv0",
        "client-ip 198.18.0.1",
        "gateway-ip 198.18.1.1",
        "probe-interval 7s",
        "timeout udp 90s",
        "workers 2",
        "service web 198.18.0.100:80/tcp",
        "  scheduler wrr",
        "  backend 198.18.1.11 weight 3",
        "");

    @TempDir
    Path dir;

    @Test
    void flagsAloneMakeAWholeConfig()
    {
        final Run run = run(join(REQUIRED,
            "--vip", "198.18.0.100:80/tcp", "--backends", "198.18.1.11,198.18.1.12:8080",
            "--scheduler", "wrr", "--weights", "3,1",
            "--probe-interval", "2s", "--probe-timeout", "500ms",
            "--timeout-tcp-syn", "5s", "--timeout-tcp-established", "10m", "--timeout-tcp-closing", "4s",
            "--timeout-udp", "20s", "--flow-capacity", "65536", "--idle-strategy", "yield", "--idle-spin", "50us",
            "--rx-ring", "v3", "--rx-frame-size", "4096", "--rx-frame-count", "1024", "--workers", "2",
            "--worker-cpus", "1,0", "--control-socket", "/tmp/lb.sock"));

        assertEquals("", run.err);
        assertEquals(0, run.exit);
        assertEquals(List.of(new LbConfig(
            "cli0",
            "srv0",
            0xC6120001,
            0xC6120101,
            List.of(new ServiceConfig("vip0", 0xC6120064, 80, Protocol.TCP, "wrr", 65537, List.of(
                new BackendConfig(0xC612010B, 0, 3),
                new BackendConfig(0xC612010C, 8080, 1)))),
            new ProbeConfig(Duration.ofSeconds(2), Duration.ofMillis(500)),
            new FlowTimeouts(Duration.ofSeconds(5), Duration.ofMinutes(10), Duration.ofSeconds(4), Duration.ofSeconds(20)),
            65536,
            IdleStrategyKind.YIELD,
            Duration.ofNanos(50_000),
            new RxRingConfig(RingVersion.V3, 4096, 1024),
            2,
            List.of(1, 0),
            Path.of("/tmp/lb.sock"))), run.launched);
    }

    @Test
    void flagsWithoutOptionalSettingsGetTheDefaults()
    {
        final Run run = run(join(REQUIRED, "--vip", "198.18.0.101:53/udp", "--backends", "198.18.1.11"));

        assertEquals(0, run.exit);
        final LbConfig config = run.launched.get(0);
        assertEquals(new ServiceConfig("vip0", 0xC6120065, 53, Protocol.UDP, "wlc", 65537,
            List.of(new BackendConfig(0xC612010B, 0, 1))), config.service("vip0"));
        assertEquals(new ProbeConfig(Duration.ofSeconds(5), Duration.ofSeconds(3)), config.probe());
        assertEquals(new FlowTimeouts(Duration.ofSeconds(30), Duration.ofSeconds(300), Duration.ofSeconds(10),
            Duration.ofSeconds(60)), config.timeouts());
        assertEquals(1_048_576, config.flowCapacity());
        assertEquals(IdleStrategyKind.BACKOFF, config.idleStrategy());
        assertEquals(Duration.ZERO, config.idleSpin());
        assertEquals(new RxRingConfig(RingVersion.V2, 2048, 4096), config.rxRing());
        assertEquals(1, config.workers());
        assertEquals(Path.of("/run/lb/lb.sock"), config.controlSocket());
    }

    @Test
    void flagsOverrideTheFilesGlobalSettingsAndKeepTheRest() throws Exception
    {
        final Path file = write(FILE);
        final Run run = run("--config", file.toString(), "--probe-interval", "2s", "--client-ip", "198.18.0.2",
            "--idle-strategy", "spin");

        assertEquals("", run.err);
        final LbConfig config = run.launched.get(0);
        final LbConfig fromFile = ConfigParser.read(file).build();
        assertEquals(Duration.ofSeconds(2), config.probe().interval());
        assertEquals(0xC6120002, config.clientIp());
        assertEquals(IdleStrategyKind.SPIN, config.idleStrategy());
        // Untouched by flags: the file's values and the file's services.
        assertEquals(2, config.workers());
        assertEquals(Duration.ofSeconds(90), config.timeouts().udp());
        assertEquals(fromFile.probe().timeout(), config.probe().timeout());
        assertEquals(fromFile.gatewayIp(), config.gatewayIp());
        assertEquals(fromFile.services(), config.services());
    }

    @Test
    void flagsCanSupplyWhatTheFileLacks() throws Exception
    {
        final Path file = write(FILE.replace("client-interface cli0\n", ""));
        assertEquals("lb: " + file + ": client-interface: not set (add 'client-interface NAME' or give --client-if)",
            run("--config", file.toString()).errLines().get(0));

        final Run run = run("--config", file.toString(), "--client-if", "eth9");
        assertEquals("eth9", run.launched.get(0).clientInterface());
    }

    @Test
    void vipWithAFileAddsAService() throws Exception
    {
        final Run run = run("--config", write(FILE).toString(), "--vip", "198.18.0.100:443/tcp",
            "--backends", "198.18.1.12:8443");

        assertEquals(List.of("web", "vip0"), run.launched.get(0).services().stream().map(ServiceConfig::name).toList());
        assertEquals(List.of(new BackendConfig(0xC612010C, 8443, 1)), run.launched.get(0).service("vip0").backends());
    }

    @Test
    void vipThatClashesWithTheFileIsAUsageError() throws Exception
    {
        final Run run = run("--config", write(FILE).toString(), "--vip", "198.18.0.100:80/tcp",
            "--backends", "198.18.1.12");

        assertUsageError(run, "lb: --vip: 198.18.0.100:80/tcp is already service 'web' (" + dir.resolve("lb.conf") + ":8)");
    }

    @Test
    void weightCountMustMatchBackendCount()
    {
        assertUsageError(
            run(join(REQUIRED, "--vip", "198.18.0.100:80/tcp", "--backends", "198.18.1.11,198.18.1.12", "--weights", "1,2,3")),
            "lb: --weights: 3 weights for 2 backends");
        assertUsageError(
            run(join(REQUIRED, "--vip", "198.18.0.100:80/tcp", "--backends", "198.18.1.11,198.18.1.12", "--weights", "4")),
            "lb: --weights: 1 weight for 2 backends");
    }

    @Test
    void badFlagValuesAreOneLineUsageErrors()
    {
        final String[] service = {"--vip", "198.18.0.100:80/tcp", "--backends", "198.18.1.11"};
        assertUsageError(run(join(join(REQUIRED, service), "--client-ip", "198.18.0")),
            "lb: --client-ip: expected an IPv4 address a.b.c.d, got '198.18.0' (3 parts, need 4)");
        assertUsageError(run(join(join(REQUIRED, service), "--gateway-ip", "256.1.1.1")),
            "lb: --gateway-ip: expected an IPv4 address a.b.c.d, got '256.1.1.1' (256 is not 0..255)");
        assertUsageError(run(join(REQUIRED, "--vip", "198.18.0.100:80/tcp", "--backends", "198.18.1.11,a.b.c.d")),
            "lb: --backends: expected an IPv4 address a.b.c.d, got 'a.b.c.d' ('a' is not a number 0..255)");
        assertUsageError(run(join(join(REQUIRED, service), "--scheduler", "fastest")),
            "lb: --scheduler: unknown scheduler 'fastest', expected one of random, rr, wrr, lc, wlc, sh, maglev");
        assertUsageError(run(join(join(REQUIRED, service), "--weights", "x")),
            "lb: --weights: expected an integer 0..10000, got 'x'");
        assertUsageError(run(join(join(REQUIRED, service), "--probe-interval", "5")),
            "lb: --probe-interval: expected a duration such as 500ms, 5s, 2m or 1h, got '5'");
        assertUsageError(run(join(join(REQUIRED, service), "--timeout-udp", "0s")),
            "lb: --timeout-udp: expected a positive duration, got '0s'");
        assertUsageError(run(join(join(REQUIRED, service), "--flow-capacity", "999")),
            "lb: --flow-capacity: expected an integer 1024..12500000, got '999'");
        assertUsageError(run(join(join(REQUIRED, service), "--rx-ring", "v1")),
            "lb: --rx-ring: expected v2 or v3, got 'v1'");
        assertUsageError(run(join(join(REQUIRED, service), "--vip", "198.18.0.100:80")),
            "lb: --vip: expected VIP:PORT/PROTO such as 198.18.0.100:80/tcp or [2001:2::100]:80/tcp, got '198.18.0.100:80'");
        assertUsageError(run(join(REQUIRED, "--vip", "198.18.0.1:80/tcp", "--backends", "198.18.1.11")),
            "lb: --vip: VIP 198.18.0.1 is also the client-ip (--client-ip); lb's own addresses must be distinct");
        assertUsageError(run(join(REQUIRED, "--vip", "198.18.0.100:80/tcp", "--backends", "198.18.1.11,198.18.1.11:80")),
            "lb: --backends: 198.18.1.11:80 is already a backend of service 'vip0'");
    }

    @Test
    void theLastOfARepeatedFlagWins()
    {
        final Run run = run(join(REQUIRED, "--vip", "198.18.0.100:80/tcp", "--backends", "198.18.1.11",
            "--workers", "2", "--client-ip", "198.18.0.9", "--workers", "3"));

        assertEquals("", run.err);
        assertEquals(3, run.launched.get(0).workers());
        assertEquals(0xC6120009, run.launched.get(0).clientIp());
    }

    @Test
    void serviceFlagsNeedEachOther()
    {
        assertUsageError(run(join(REQUIRED, "--vip", "198.18.0.100:80/tcp")), "lb: --vip: needs --backends");
        assertUsageError(run(join(REQUIRED, "--backends", "198.18.1.11")),
            "lb: --backends: needs --vip (it belongs to the service that --vip defines)");
        assertUsageError(run(join(REQUIRED, "--scheduler", "rr")),
            "lb: --scheduler: needs --vip (it belongs to the service that --vip defines)");
        assertUsageError(run(REQUIRED), "lb: no service defined: give --vip and --backends, --route and --next-hops, or --config FILE");
        assertUsageError(run("--vip", "198.18.0.100:80/tcp", "--backends", "198.18.1.11"),
            "lb: --client-if: not set (give --client-if NAME, or --config FILE)");
    }

    @Test
    void tcpCheckFlagsGiveTheFlagServiceACheck()
    {
        final Run run = run(join(REQUIRED, "--vip", "198.18.0.100:80/tcp", "--backends", "198.18.1.11", "--tcp-check",
            "--check-port", "8080", "--check-fall", "3", "--check-interval", "250ms"));
        assertEquals("", run.err);
        assertEquals(new TcpCheckConfig(8080, Duration.ofMillis(250), Duration.ofSeconds(1), 2, 3),
            run.launched.get(0).service("vip0").check());
        assertEquals(null, run(join(REQUIRED, "--vip", "198.18.0.100:80/tcp", "--backends", "198.18.1.11"))
            .launched.get(0).service("vip0").check(), "no check unless asked");

        assertUsageError(run(join(REQUIRED, "--vip", "198.18.0.100:80/tcp", "--backends", "198.18.1.11", "--check-fall", "3")),
            "lb: --check-fall: needs --tcp-check");
        assertUsageError(run(join(REQUIRED, "--vip", "198.18.0.100:80/tcp", "--backends", "198.18.1.11", "--tcp-check",
            "--check-rise", "0")), "lb: --check-rise: expected an integer 1..100, got '0'");
        assertUsageError(run(join(REQUIRED, "--tcp-check")),
            "lb: --tcp-check: needs --vip (it belongs to the service that --vip defines)");
    }

    @Test
    void routeFlagsMakeARouteService()
    {
        final Run run = run(join(REQUIRED, "--server-network", "198.18.1.0/24", "--route", "198.19.0.0/16",
            "--next-hops", "198.18.1.12,198.18.1.13", "--spread", "flowlet", "--flowlet-gap", "4ms"));
        assertEquals("", run.err);
        assertEquals(0, run.exit);
        assertEquals(List.of(new RouteConfig("route0", Ipv4Prefix.parse("198.19.0.0/16"),
            List.of(0xC612010C, 0xC612010D), SpreadPolicy.FLOWLET, false, Duration.ofMillis(4))),
            run.launched.get(0).routes());
        assertTrue(run.launched.get(0).services().isEmpty());

        final Run rebalanced = run(join(REQUIRED, "--server-network", "198.18.1.0/24", "--route", "198.19.0.0/16",
            "--next-hops", "198.18.1.12", "--spread", "least-flows", "--rebalance"));
        assertTrue(rebalanced.launched.get(0).routes().get(0).rebalance());

        assertUsageError(run(join(REQUIRED, "--route", "198.19.0.0/16")), "lb: --route: needs --next-hops");
        assertUsageError(run(join(REQUIRED, "--spread", "packet")),
            "lb: --spread: needs --route (it belongs to the route that --route defines)");
        assertUsageError(run(join(REQUIRED, "--server-network", "198.18.1.0/24", "--route", "198.19.0.0/16",
            "--next-hops", "198.18.1.12", "--rebalance")),
            "lb: --rebalance: needs policy least-flows (route 'route0' has flow-hash)");
        assertUsageError(run(join(REQUIRED, "--server-network", "198.18.1.0/24", "--route", "198.19.0.0/16",
            "--next-hops", "198.18.2.12")),
            "lb: --next-hops: 198.18.2.12 is outside server-network 198.18.1.0/24: next hops must be on the server-side LAN");
        assertUsageError(run(join(REQUIRED, "--server-network", "198.18.1.0/24", "--route", "198.18.0.0/24",
            "--next-hops", "198.18.1.12")), "lb: --route: 198.18.0.0/24 holds lb's own address 198.18.0.1");
    }

    @Test
    void routeFlagsTakeAnIpv6PrefixWithIpv6NextHops()
    {
        final String[] ipv6 = join(REQUIRED, "--client-ip6", "2001:2::1", "--gateway-ip6", "2001:2:0:1::1",
            "--server-network6", "2001:2:0:1::/64");
        final Run run = run(join(ipv6, "--route", "2001:2:0:3::/64", "--next-hops", "2001:2:0:1::12,2001:2:0:1::13",
            "--spread", "least-flows"));
        assertEquals("", run.err);
        assertEquals(0, run.exit);
        final RouteConfig route = run.launched.get(0).routes().get(0);
        assertEquals(Ipv6Prefix.parse("2001:2:0:3::/64"), route.prefix());
        assertEquals(List.of(IpAddresses.parse("2001:2:0:1::12"), IpAddresses.parse("2001:2:0:1::13")), route.nextHops());
        assertEquals(SpreadPolicy.LEAST_FLOWS, route.policy());

        assertUsageError(run(join(ipv6, "--route", "2001:2:0:3::/64", "--next-hops", "198.18.1.12")),
            "lb: --next-hops: 198.18.1.12 is IPv4 but the route's prefix 2001:2:0:3::/64 is IPv6: next hops are of the " +
                "prefix's family");
        assertUsageError(run(join(REQUIRED, "--route", "2001:2:0:3::/64", "--next-hops", "2001:2:0:1::12")),
            "lb: --route: an IPv6 route needs client-ip6 and gateway-ip6 (lb's own IPv6 addresses: the clients' router and " +
                "the next hops' way back)");
    }

    @Test
    void picocliErrorsAreOneLinePlusAHint()
    {
        final Run unknown = run(join(REQUIRED, "--worker", "2"));
        assertEquals(2, unknown.exit);
        assertEquals(List.of("lb: Unknown options: '--worker', '2' (did you mean '--workers'?)", "try 'lb --help'"),
            unknown.errLines());

        assertUsageError(run("--client-ip"), "lb: Missing required parameter for option '--client-ip' (IP)");
        assertUsageError(run(join(REQUIRED, "--weird")), "lb: Unknown option: '--weird'");
        assertUsageError(run(join(REQUIRED, "--flow-capacty=5")),
            "lb: Unknown option: '--flow-capacty=5' (did you mean '--flow-capacity'?)");
        assertTrue(unknown.launched.isEmpty());
    }

    @Test
    void configFileErrorsAreOneLineWithExitStatus78() throws Exception
    {
        final Path file = write(FILE.replace("weight 3", "weight x"));
        final Run run = run("--config", file.toString());

        assertEquals(LbCommand.EXIT_CONFIG, run.exit);
        assertEquals(List.of(file + ":10: backend weight: expected an integer 0..10000, got 'x'").stream()
            .map(line -> "lb: " + line).toList(), run.errLines());
        assertTrue(run.launched.isEmpty());

        final Run missing = run("--config", dir.resolve("absent.conf").toString());
        assertEquals(List.of("lb: " + dir.resolve("absent.conf") + ": cannot read: no such file"), missing.errLines());
        assertEquals(LbCommand.EXIT_CONFIG, missing.exit);
    }

    @Test
    void helpExplainsEveryOptionWithItsDefault()
    {
        final Run run = run("--help");
        assertEquals(0, run.exit);
        assertEquals("", run.err);
        assertTrue(run.launched.isEmpty());

        final CommandLine commandLine = LbCommand.commandLine(config -> 0);
        final String help = squash(run.out);
        int withDefault = 0;
        for (final OptionSpec option : commandLine.getCommandSpec().options())
        {
            for (final String name : option.names())
            {
                assertTrue(help.contains(name), "help does not mention " + name);
            }
            if (option.defaultValue() != null)
            {
                withDefault++;
                assertTrue(help.contains("Default: " + option.defaultValue() + "."),
                    "help does not give the default of " + option.longestName());
            }
        }
        assertEquals(25, withDefault);
        assertTrue(help.contains("Default: 5s."), help);
        assertTrue(help.contains("Default: /run/lb/lb.sock."), help);
        assertTrue(help.contains("Default: 1 each."), help);
    }

    @Test
    void checkPrintsTheEffectiveConfigWithoutLaunching() throws Exception
    {
        final Run run = run("--config", write(FILE).toString(), "--check", "--workers", "4");
        assertEquals(0, run.exit);
        assertTrue(run.launched.isEmpty());

        final LbConfig printed = ConfigParser.parse("printed", run.out).build();
        assertEquals(4, printed.workers());
        assertEquals(ConfigParser.read(dir.resolve("lb.conf")).build().services(), printed.services());
    }

    @Test
    void ipv6FlagsDefineAnIpv6ServiceAndCheckPrintsItBack()
    {
        final Run run = run(join(REQUIRED, "--client-ip6", "2001:2::1", "--gateway-ip6", "2001:2:0:1:0:0:0:1",
            "--server-network6", "2001:2:0:1::/64", "--flow-table-size6", "8192",
            "--vip", "[2001:2::100]:80/tcp", "--backends", "2001:2:0:1::11,[2001:2:0:1::12]:80", "--mode", "dsr",
            "--weights", "1,1", "--check"));
        assertEquals("", run.err);
        assertEquals(0, run.exit);
        assertTrue(run.launched.isEmpty());
        assertTrue(run.out.contains("\nclient-ip6 2001:2::1\ngateway-ip6 2001:2:0:1::1\n"), run.out);
        assertTrue(run.out.contains("\nflow-table-size6 8192\n"), run.out);
        assertTrue(run.out.contains("\nserver-network6 2001:2:0:1::/64\n"), run.out);
        assertTrue(run.out.contains("\nservice vip0 [2001:2::100]:80/tcp\n"), run.out);
        assertTrue(run.out.contains("\n  backend 2001:2:0:1::11 weight 1\n"), run.out);

        final LbConfig printed = ConfigParser.parse("printed", run.out).build();
        assertEquals(IpAddresses.parse("2001:2:0:1::1"), printed.ipv6().gatewayIp6());
        assertEquals(List.of(new BackendConfig(IpAddresses.parse("2001:2:0:1::11"), BackendConfig.SAME_PORT, 1),
            new BackendConfig(IpAddresses.parse("2001:2:0:1::12"), 80, 1)), printed.service("vip0").backends());
    }

    @Test
    void anIpv6VipInModeIpipIsAccepted()
    {
        final Run run = run(join(REQUIRED, "--client-ip6", "2001:2::1", "--gateway-ip6", "2001:2:0:1::1",
            "--vip", "[2001:2::100]:80/tcp", "--backends", "2001:2:0:1::11,2001:2:0:1::12", "--mode", "ipip", "--check"));
        assertEquals("", run.err);
        assertEquals(0, run.exit);
        assertEquals(ForwardingMode.IPIP, ConfigParser.parse("printed", run.out).build().service("vip0").mode(), run.out);
    }

    @Test
    void badIpv6FlagsAreOneLineUsageErrors()
    {
        assertUsageError(run(join(REQUIRED, "--gateway-ip6", "198.18.1.1", "--vip", "198.18.0.100:80/tcp",
            "--backends", "198.18.1.11")),
            "lb: --gateway-ip6: expected an IPv6 address such as 2001:2::1, got '198.18.1.1' (no ':')");
        assertUsageError(run(join(REQUIRED, "--vip", "[2001:2::100]:80/tcp", "--backends", "2001:2:0:1::11")),
            "lb: --vip: IPv6 VIP 2001:2::100 needs client-ip6 and gateway-ip6 (lb's own IPv6 addresses)");
        assertUsageError(run(join(REQUIRED, "--client-ip6", "2001:2::1", "--gateway-ip6", "2001:2:0:1::1",
            "--vip", "[2001:2::100]:80/tcp", "--backends", "198.18.1.11")),
            "lb: --backends: 198.18.1.11 is IPv4 but service 'vip0' has an IPv6 VIP: a service's backends are of its VIP's family");
        assertUsageError(run(join(REQUIRED, "--client-ip6", "2001:2::1", "--gateway-ip6", "2001:2:0:1::1",
            "--vip", "[2001:2::100]:80/tcp", "--backends", "2001:2:0:1::1", "--mode", "ipip")),
            "lb: --backends: 2001:2:0:1::1 is lb's own address, the gateway-ip6 (--gateway-ip6)");
    }

    @Test
    void theLaunchersExitStatusIsTheCommands()
    {
        final StringWriter err = new StringWriter();
        final CommandLine commandLine = LbCommand.commandLine(config -> 42);
        commandLine.setErr(new PrintWriter(err));
        assertEquals(42, commandLine.execute(join(REQUIRED, "--vip", "198.18.0.100:80/tcp", "--backends", "198.18.1.11")));
        assertEquals("", err.toString());
    }

    @Test
    void versionNamesTheCommand()
    {
        final Run run = run("--version");
        assertEquals(0, run.exit);
        assertTrue(run.out.startsWith("lb "), run.out);
    }

    private static void assertUsageError(final Run run, final String message)
    {
        assertEquals(List.of(message, "try 'lb --help'"), run.errLines());
        assertEquals(LbCommand.EXIT_USAGE, run.exit);
        assertNull(run.launched.isEmpty() ? null : run.launched, "launched despite the error");
    }

    private Path write(final String text) throws Exception
    {
        final Path file = dir.resolve("lb.conf");
        Files.writeString(file, text);
        return file;
    }

    /** Help text wraps lines: join them so a phrase can be found whole. */
    private static String squash(final String help)
    {
        return help.replaceAll("\\s+", " ");
    }

    private static String[] join(final String[] head, final String... tail)
    {
        final String[] all = new String[head.length + tail.length];
        System.arraycopy(head, 0, all, 0, head.length);
        System.arraycopy(tail, 0, all, head.length, tail.length);
        return all;
    }

    private static Run run(final String... args)
    {
        final List<LbConfig> launched = new ArrayList<>();
        final CommandLine commandLine = LbCommand.commandLine(config ->
        {
            launched.add(config);
            return 0;
        });
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        commandLine.setOut(new PrintWriter(out));
        commandLine.setErr(new PrintWriter(err));
        final int exit = commandLine.execute(args);
        return new Run(exit, out.toString(), err.toString(), launched);
    }

    private record Run(int exit, String out, String err, List<LbConfig> launched)
    {
        List<String> errLines()
        {
            return err.isEmpty() ? List.of() : List.of(err.split("\n"));
        }
    }
}
