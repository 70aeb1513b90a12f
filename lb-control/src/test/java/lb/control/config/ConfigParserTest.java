package lb.control.config;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import lb.dataplane.pipeline.ForwardingMode;
import lb.dataplane.spread.SpreadPolicy;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;



class ConfigParserTest
{
    /** The example of the config format: every global setting, two services. */
    static final String EXAMPLE = String.join("\n",
        "client-interface cli0",
        "server-interface srv0",
        "client-ip 198.18.0.1",
        "gateway-ip 198.18.1.1",
        "probe-interval 5s",
        "probe-timeout 3s",
        "timeout tcp-syn 30s",
        "timeout tcp-established 300s",
        "timeout tcp-closing 10s",
        "timeout udp 60s",
        "flow-capacity 1048576",
        "idle-strategy backoff",
        "control-socket /run/lb/lb.sock",
        "",
        "service web 198.18.0.100:80/tcp",
        "  scheduler wrr",
        "  backend 198.18.1.11 weight 28",
        "  backend 198.18.1.12:8080 weight 3",
        "  backend 198.18.1.13 weight 2",
        "",
        "service dns 198.18.0.101:53/udp",
        "  scheduler maglev",
        "  backend 198.18.1.11",
        "");

    static final LbConfig EXAMPLE_CONFIG = new LbConfig(
        "cli0",
        "srv0",
        0xC6120001,
        0xC6120101,
        List.of(
            new ServiceConfig("web", 0xC6120064, 80, Protocol.TCP, "wrr", 65537, List.of(
                new BackendConfig(0xC612010B, 0, 28),
                new BackendConfig(0xC612010C, 8080, 3),
                new BackendConfig(0xC612010D, 0, 2))),
            new ServiceConfig("dns", 0xC6120065, 53, Protocol.UDP, "maglev", 65537, List.of(
                new BackendConfig(0xC612010B, 0, 1)))),
        new ProbeConfig(Duration.ofSeconds(5), Duration.ofSeconds(3)),
        new FlowTimeouts(Duration.ofSeconds(30), Duration.ofSeconds(300), Duration.ofSeconds(10), Duration.ofSeconds(60)),
        1_048_576,
        IdleStrategyKind.BACKOFF,
        Duration.ZERO,
        new RxRingConfig(RingVersion.V2, 2048, 4096),
        1,
        List.of(),
        Path.of("/run/lb/lb.sock"));

    /** The four required settings on lines 1 to 4; cases below count their lines from here. */
    private static final String HEADER = String.join("\n",
        "client-interface cli0",
        "server-interface srv0",
        "client-ip 198.18.0.1",
        "gateway-ip 198.18.1.1");

    @Test
    void parsesTheExampleToTheExactModel()
    {
        assertEquals(EXAMPLE_CONFIG, build(EXAMPLE));
    }

    @Test
    void parsesEveryNonDefaultSettingIntoItsOwnField()
    {
        final String text = String.join("\n",
            "client-interface\teth1   # tabs and trailing comments are fine",
            "   server-interface eth2",
            "client-ip 198.18.5.1",
            "gateway-ip 198.18.6.1",
            "probe-interval 2m",
            "probe-timeout 1500ms",
            "probe-retries 3",
            "timeout tcp-syn 7s",
            "timeout tcp-established 1h",
            "timeout tcp-closing 11s",
            "timeout udp 13s",
            "flow-capacity 4096",
            "idle-strategy spin",
            "idle-spin 3ms",
            "rx-ring v3 frame-size 4096 frame-count 64",
            "workers 3",
            "worker-cpus 4,0,2",
            "control-socket /tmp/lb-test.sock",
            "service api 198.18.5.10:443/tcp",
            "  scheduler sh",
            "  maglev-table-size 251",
            "  backend 198.18.6.20:8443 weight 0",
            "  backend 198.18.6.21:8443 weight 10000",
            "service q 198.18.5.10:443/udp",
            "  backend 198.18.6.20");

        final LbConfig expected = new LbConfig(
            "eth1",
            "eth2",
            0xC6120501,
            0xC6120601,
            List.of(
                new ServiceConfig("api", 0xC612050A, 443, Protocol.TCP, "sh", 251, List.of(
                    new BackendConfig(0xC6120614, 8443, 0),
                    new BackendConfig(0xC6120615, 8443, 10000))),
                new ServiceConfig("q", 0xC612050A, 443, Protocol.UDP, "wlc", 65537, List.of(
                    new BackendConfig(0xC6120614, 0, 1)))),
            new ProbeConfig(Duration.ofMinutes(2), Duration.ofMillis(1500), 3),
            new FlowTimeouts(Duration.ofSeconds(7), Duration.ofHours(1), Duration.ofSeconds(11), Duration.ofSeconds(13)),
            4096,
            IdleStrategyKind.SPIN,
            Duration.ofMillis(3),
            new RxRingConfig(RingVersion.V3, 4096, 64),
            3,
            List.of(4, 0, 2),
            Path.of("/tmp/lb-test.sock"));
        assertEquals(expected, build(text));
    }

    @Test
    void minimalFileGetsTheDefaults()
    {
        final LbConfig config = build(HEADER + "\nservice web 198.18.0.100:80/tcp\nbackend 198.18.1.11\n");

        assertEquals(EXAMPLE_CONFIG.probe(), config.probe());
        assertEquals(EXAMPLE_CONFIG.timeouts(), config.timeouts());
        assertEquals(1_048_576, config.flowCapacity());
        assertEquals(IdleStrategyKind.BACKOFF, config.idleStrategy());
        assertEquals(Duration.ZERO, config.idleSpin());
        assertEquals(new RxRingConfig(RingVersion.V2, 2048, 4096), config.rxRing());
        assertEquals(1, config.workers());
        assertEquals(Path.of("/run/lb/lb.sock"), config.controlSocket());
        assertEquals(
            new ServiceConfig("web", 0xC6120064, 80, Protocol.TCP, "wlc", 65537, List.of(new BackendConfig(0xC612010B, 0, 1))),
            config.service("web"));
        assertEquals(80, config.service("web").backendPort(config.service("web").backends().get(0)));
    }

    @Test
    void rxRingOptionsAreOptionalAndKeepTheirDefaults()
    {
        assertEquals(new RxRingConfig(RingVersion.V3, 2048, 4096), build("rx-ring v3\n" + withService()).rxRing());
        assertEquals(new RxRingConfig(RingVersion.V2, 2048, 256),
            build("rx-ring v2 frame-count 256\n" + withService()).rxRing());
    }

    @Test
    void theTestbedExampleFileParsesToTheExampleModel()
    {
        // Maven runs tests in the module directory; the example lives in the repository's docker/.
        final Path file = Path.of("../docker/lb.conf");
        assertEquals(EXAMPLE_CONFIG, ConfigParser.read(file).build());
    }

    @Test
    void writerOutputParsesBackToAnEqualConfig()
    {
        final String written = ConfigWriter.format(EXAMPLE_CONFIG);
        assertEquals(EXAMPLE_CONFIG, build(written));
        assertEquals(String.join("\n",
            "client-interface cli0",
            "server-interface srv0",
            "client-ip 198.18.0.1",
            "gateway-ip 198.18.1.1",
            "probe-interval 5s",
            "probe-timeout 3s",
            "probe-retries 1",
            "timeout tcp-syn 30s",
            "timeout tcp-established 5m",
            "timeout tcp-closing 10s",
            "timeout udp 1m",
            "flow-capacity 1048576",
            "flow-table-size6 262144",
            "idle-strategy backoff",
            "idle-spin 0",
            "rx-ring v2 frame-size 2048 frame-count 4096",
            "workers 1",
            "worker-cpus none",
            "control-socket /run/lb/lb.sock",
            "",
            "service web 198.18.0.100:80/tcp",
            "  scheduler wrr",
            "  mode nat",
            "  backend 198.18.1.11 weight 28",
            "  backend 198.18.1.12:8080 weight 3",
            "  backend 198.18.1.13 weight 2",
            "",
            "service dns 198.18.0.101:53/udp",
            "  scheduler maglev",
            "  mode nat",
            "  maglev-table-size 65537",
            "  backend 198.18.1.11 weight 1",
            ""), written);
    }

    @Test
    void readNamesTheFileInErrors(@TempDir final Path dir) throws Exception
    {
        final Path file = dir.resolve("lb.conf");
        Files.writeString(file, HEADER + "\nworkers many\n");
        assertEquals(file + ":5: workers: expected an integer 1..64, got 'many'",
            assertThrows(ConfigException.class, () -> ConfigParser.read(file)).getMessage());

        final Path missing = dir.resolve("absent.conf");
        assertEquals(missing + ": cannot read: no such file",
            assertThrows(ConfigException.class, () -> ConfigParser.read(missing)).getMessage());

        final Path binary = dir.resolve("binary.conf");
        Files.write(binary, new byte[] {(byte)0xC3, (byte)0x28});
        assertEquals(binary + ": cannot read: not UTF-8 text",
            assertThrows(ConfigException.class, () -> ConfigParser.read(binary)).getMessage());
    }

    static Stream<Arguments> errors()
    {
        return Stream.of(
            // directives
            error("# a comment\n\nclient-interfce cli0",
                "lb.conf:3: unknown directive 'client-interfce' (did you mean 'client-interface'?)"),
            error("frobnicate 1", "lb.conf:1: unknown directive 'frobnicate'"),
            error(HEADER + "\nbackend 198.18.1.11", "lb.conf:5: backend: must follow a 'service' line"),
            error(HEADER + "\nscheduler rr", "lb.conf:5: scheduler: must follow a 'service' line"),
            error(withService("backend 198.18.1.12", "workers 2"),
                "lb.conf:8: workers: global setting inside service 'web' (line 5); " +
                "move it above the first 'service' line"),
            error(HEADER + "\nclient-ip 198.18.0.2", "lb.conf:5: client-ip: already set (line 3)"),
            error(HEADER + "\ntimeout udp 60s\n\ntimeout udp 61s", "lb.conf:7: timeout udp: already set (line 5)"),
            error(withService("scheduler rr", "scheduler wrr"), "lb.conf:8: scheduler: already set (line 7)"),
            error("client-ip", "lb.conf:1: client-ip: missing value, expected 'client-ip IP'"),
            error("client-ip 198.18.0.1 198.18.0.2", "lb.conf:1: client-ip: too many values, expected 'client-ip IP'"),
            // addresses and interfaces
            error("client-ip 198.18.0",
                "lb.conf:1: client-ip: expected an IPv4 address a.b.c.d, got '198.18.0' (3 parts, need 4)"),
            error("gateway-ip 256.1.1.1",
                "lb.conf:1: gateway-ip: expected an IPv4 address a.b.c.d, got '256.1.1.1' (256 is not 0..255)"),
            error("client-ip a.b.c.d",
                "lb.conf:1: client-ip: expected an IPv4 address a.b.c.d, got 'a.b.c.d' ('a' is not a number 0..255)"),
            error("client-interface a-very-long-name0",
                "lb.conf:1: client-interface: expected an interface name of 1..15 characters without '/' or spaces, " +
                "got 'a-very-long-name0'"),
            error("server-interface ../x",
                "lb.conf:1: server-interface: expected an interface name of 1..15 characters without '/' or spaces, " +
                "got '../x'"),
            // durations and numbers
            error("probe-interval 5", "lb.conf:1: probe-interval: expected a duration such as 500ms, 5s, 2m or 1h, got '5'"),
            error("probe-timeout 0s", "lb.conf:1: probe-timeout: expected a positive duration, got '0s'"),
            error("probe-retries 11", "lb.conf:1: probe-retries: expected an integer 0..10, got '11'"),
            error("timeout tcp-syn 2d", "lb.conf:1: timeout tcp-syn: expected a duration such as 500ms, 5s, 2m or 1h, got '2d'"),
            error("timeout tcp-fin 10s",
                "lb.conf:1: timeout: unknown kind 'tcp-fin' (did you mean 'tcp-syn'?), " +
                "expected one of tcp-syn, tcp-established, tcp-closing, udp"),
            error("timeout", "lb.conf:1: timeout: missing kind, expected 'timeout KIND DURATION' with KIND one of " +
                "tcp-syn, tcp-established, tcp-closing, udp"),
            error("timeout udp", "lb.conf:1: timeout udp: missing value, expected 'timeout udp DURATION'"),
            error("flow-capacity 100", "lb.conf:1: flow-capacity: expected an integer 1024..12500000, got '100'"),
            error("flow-capacity 1M", "lb.conf:1: flow-capacity: expected an integer 1024..12500000, got '1M'"),
            error("workers 0", "lb.conf:1: workers: expected an integer 1..64, got '0'"),
            error("idle-strategy sleep", "lb.conf:1: idle-strategy: expected backoff, spin or yield, got 'sleep'"),
            error("idle-spin 1s", "lb.conf:1: idle-spin: expected 0 or a duration such as 20us or 1ms, got '1s'"),
            error("worker-cpus 1,x", "lb.conf:1: worker-cpus: expected none or CPU numbers 0..1023 separated by commas, got '1,x'"),
            error("worker-cpus 2,2", "lb.conf:1: worker-cpus: CPU 2 is given twice in '2,2': one worker per CPU"),
            error("rx-ring v4", "lb.conf:1: rx-ring: expected v2 or v3, got 'v4'"),
            error("rx-ring v2 frame-size 3000",
                "lb.conf:1: rx-ring frame-size: expected a power of two 256..65536, got '3000'"),
            error("rx-ring v2 frame-count", "lb.conf:1: rx-ring frame-count: missing value"),
            error("rx-ring v2 frame-sise 2048",
                "lb.conf:1: rx-ring: unknown option 'frame-sise' (did you mean 'frame-size'?), " +
                "expected frame-size or frame-count"),
            error("rx-ring v2 frame-size 2048 frame-size 4096", "lb.conf:1: rx-ring frame-size: given twice"),
            error("control-socket /" + "d".repeat(120),
                "lb.conf:1: control-socket: path is 121 bytes, a unix socket path holds at most 107"),
            // services
            error(HEADER + "\nservice web", "lb.conf:5: service: missing value, expected 'service NAME VIP:PORT/PROTO'"),
            error(HEADER + "\nservice -web 198.18.0.100:80/tcp",
                "lb.conf:5: service name: expected a name of letters, digits, '_', '.' and '-' " +
                "(at most 64 characters, starting with a letter or digit), got '-web'"),
            error(HEADER + "\nservice web 198.18.0.100:80",
                "lb.conf:5: service web: expected VIP:PORT/PROTO such as 198.18.0.100:80/tcp or [2001:2::100]:80/tcp, got '198.18.0.100:80'"),
            error(HEADER + "\nservice web 198.18.0.100:80/sctp", "lb.conf:5: service web: expected tcp or udp, got 'sctp'"),
            error(HEADER + "\nservice web 198.18.0.100:0/tcp", "lb.conf:5: service web: expected a port 1..65535, got '0'"),
            error(HEADER + "\nservice web 198.18.0:80/tcp",
                "lb.conf:5: service web: expected an IPv4 address a.b.c.d, got '198.18.0' (3 parts, need 4)"),
            error(withService("scheduler fastest"),
                "lb.conf:7: scheduler: unknown scheduler 'fastest', expected one of random, rr, wrr, lc, wlc, sh, maglev"),
            error(withService("scheduler wrrr"),
                "lb.conf:7: scheduler: unknown scheduler 'wrrr' (did you mean 'wrr'?), " +
                "expected one of random, rr, wrr, lc, wlc, sh, maglev"),
            error(withService("maglev-table-size 65536"),
                "lb.conf:7: maglev-table-size: expected a prime 2..16777213 (such as 251, 65537 or 655373), got '65536'"),
            // backends
            error(withService("backend 198.18.1.12 weight x"),
                "lb.conf:7: backend weight: expected an integer 0..10000, got 'x'"),
            error(withService("backend 198.18.1.12 weight 10001"),
                "lb.conf:7: backend weight: expected an integer 0..10000, got '10001'"),
            error(withService("backend 198.18.1.12 weight -1"),
                "lb.conf:7: backend weight: expected an integer 0..10000, got '-1'"),
            error(withService("backend 198.18.1.12 weight"), "lb.conf:7: backend weight: missing value"),
            error(withService("backend 198.18.1.12 weight 1 weight 2"), "lb.conf:7: backend weight: given twice"),
            error(withService("backend 198.18.1.12 wieght 3"),
                "lb.conf:7: backend: unknown option 'wieght' (did you mean 'weight'?), expected 'weight W'"),
            error(withService("backend"), "lb.conf:7: backend: missing value, expected 'backend IP[:PORT] [weight W]'"),
            error(withService("backend 198.18.1"),
                "lb.conf:7: backend: expected an IPv4 address a.b.c.d, got '198.18.1' (3 parts, need 4)"),
            error(withService("backend 198.18.1.12:0"), "lb.conf:7: backend: expected a port 1..65535, got '0'"),
            error(withService("backend 198.18.1.12:99999"), "lb.conf:7: backend: expected a port 1..65535, got '99999'"),
            // the whole: missing settings, duplicates and clashes
            error("", "lb.conf: client-interface: not set (add 'client-interface NAME' or give --client-if)"),
            error(String.join("\n", "client-interface cli0", "server-interface srv0", "gateway-ip 198.18.1.1"),
                "lb.conf: client-ip: not set (add 'client-ip IP' or give --client-ip)"),
            error(HEADER, "lb.conf: no service defined"),
            error(HEADER + "\nservice web 198.18.0.100:80/tcp\nservice api 198.18.0.101:80/tcp\nbackend 198.18.1.11",
                "lb.conf:5: service web: no backends (add 'backend IP[:PORT]' lines after it)"),
            error(withService("backend 198.18.1.11:80"),
                "lb.conf:7: backend: 198.18.1.11:80 is already a backend of service 'web' (line 6)"),
            error(withService("backend 198.18.1.11:81", "backend 198.18.1.12", "backend 198.18.1.11:81 weight 3"),
                "lb.conf:9: backend: 198.18.1.11:81 is already a backend of service 'web' (line 7)"),
            error(withService("service api 198.18.0.100:80/tcp", "backend 198.18.1.12"),
                "lb.conf:7: service api: 198.18.0.100:80/tcp is already service 'web' (line 5)"),
            error(withService("service web 198.18.0.101:80/tcp", "backend 198.18.1.12"),
                "lb.conf:7: service web: name 'web' is already used (line 5)"),
            error(HEADER + "\nservice web 198.18.0.1:80/tcp\nbackend 198.18.1.11",
                "lb.conf:5: service web: VIP 198.18.0.1 is also the client-ip (line 3); lb's own addresses must be distinct"),
            error(HEADER + "\nservice web 198.18.1.1:80/tcp\nbackend 198.18.1.11",
                "lb.conf:5: service web: VIP 198.18.1.1 is also the gateway-ip (line 4); lb's own addresses must be distinct"),
            error(HEADER.replace("gateway-ip 198.18.1.1", "gateway-ip 198.18.0.1") + "\nservice web 198.18.0.100:80/tcp",
                "lb.conf:4: gateway-ip: 198.18.0.1 is also the client-ip (line 3); lb's own addresses must be distinct"),
            error(HEADER.replace("server-interface srv0", "server-interface cli0"),
                "lb.conf:2: server-interface: 'cli0' is also the client-interface (line 1); lb needs one interface per side"),
            error(withService("backend 198.18.1.1"),
                "lb.conf:7: backend: 198.18.1.1 is lb's own address, the gateway-ip (line 4)"),
            error(withService("backend 198.18.0.1:8080"),
                "lb.conf:7: backend: 198.18.0.1 is lb's own address, the client-ip (line 3)"),
            error(withService("service dns 198.18.0.101:53/udp", "backend 198.18.0.100"),
                "lb.conf:8: backend: 198.18.0.100 is lb's own address, the VIP of service 'web' (line 5)"),
            error(withService("scheduler maglev", "maglev-table-size 2", "backend 198.18.1.12", "backend 198.18.1.13"),
                "lb.conf:8: maglev-table-size: 2 slots cannot hold 3 backends (at least 100 slots per backend)"),
            error(withService("scheduler maglev", "maglev-table-size 251", "backend 198.18.1.12", "backend 198.18.1.13"),
                "lb.conf:8: maglev-table-size: 251 slots cannot hold 3 backends (at least 100 slots per backend)"),
            error(HEADER + "\nservice web 198.18.0.100:80/tcp\n" + manyBackends(257),
                "lb.conf:5: service web: 257 backends: at most 256"),
            error("workers 2\nworker-cpus 1\n" + HEADER + "\nservice web 198.18.0.100:80/tcp\nbackend 198.18.1.11",
                "lb.conf:2: worker-cpus: 1 CPU(s) for 2 worker(s) (line 1); give one CPU per worker"),
            error("rx-ring v3 frame-size 65536 frame-count 32768\n" + HEADER +
                "\nservice web 198.18.0.100:80/tcp\nbackend 198.18.1.11",
                "lb.conf:1: rx-ring: 32768 frames of 65536 bytes take 2048 MiB, at most 1024 MiB per ring"));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("errors")
    void everyErrorIsOneLineNamingFileLineAndField(final String text, final String message)
    {
        final ConfigException ex = assertThrows(ConfigException.class, () -> build(text));
        assertEquals(message, ex.getMessage());
        assertFalse(ex.isCommandLine());
    }

    /** The header, then a service "web" with one backend on lines 5 and 6, then the given lines from 7 on. */
    static String withService(final String... lines)
    {
        return HEADER + "\nservice web 198.18.0.100:80/tcp\n  backend 198.18.1.11\n" + String.join("\n", lines);
    }

    private static Arguments error(final String text, final String message)
    {
        return Arguments.of(text, message);
    }

    @Test
    void oneWayModesAndBgpParseAndPrintBack()
    {
        final LbConfig config = build(HEADER + "\nserver-network 198.18.1.0/24\n" +
            "bgp-local 198.18.3.11 65001\nbgp-neighbor 198.18.3.1 65000\nbgp-bfd off\n" +
            "service web 198.18.0.100:80/tcp\n  scheduler maglev\n  mode dsr\n  backend 198.18.1.11\n" +
            "service tun 198.18.0.100:81/tcp\n  mode ipip\n  backend 198.18.1.12:8081\n");
        assertEquals(ForwardingMode.DSR, config.services().get(0).mode());
        assertEquals(ForwardingMode.IPIP, config.services().get(1).mode());
        assertEquals("198.18.1.0/24", config.serverNetwork().toString());
        final BgpConfig bgp = config.bgp();
        assertEquals(Ipv4.parse("198.18.3.11"), bgp.localIp());
        assertEquals(65001, bgp.localAs());
        assertEquals(Ipv4.parse("198.18.3.1"), bgp.neighborIp());
        assertEquals(65000, bgp.neighborAs());
        assertEquals(Ipv4.parse("198.18.0.1"), bgp.nextHop(), "next hop: client-ip unless set");
        assertEquals(false, bgp.bfd());
        assertEquals(Path.of("/run/lb/lb.sock.bird"), bgp.runDir());
        assertEquals(config, build(ConfigWriter.format(config)));
    }

    @Test
    void tcpChecksParseWithDefaultsAndPrintBack()
    {
        final LbConfig config = build(HEADER + "\nservice web 198.18.0.100:80/tcp\n  check tcp\n  check-fall 3\n" +
            "  backend 198.18.1.11\n  backend 198.18.1.12:8080\n" +
            "service dns 198.18.0.100:53/udp\n  check tcp\n  check-port 5300\n  check-interval 500ms\n" +
            "  check-timeout 200ms\n  check-rise 5\n  backend 198.18.1.11:5353\n" +
            "service plain 198.18.0.100:81/tcp\n  check none\n  backend 198.18.1.13\n");
        final TcpCheckConfig web = config.services().get(0).check();
        assertEquals(new TcpCheckConfig(TcpCheckConfig.BACKEND_PORT, Duration.ofSeconds(1), Duration.ofSeconds(1), 2, 3), web);
        assertEquals(80, web.portFor(80));
        assertEquals(8080, web.portFor(8080), "each backend's own port");
        assertEquals(new TcpCheckConfig(5300, Duration.ofMillis(500), Duration.ofMillis(200), 5, 2),
            config.services().get(1).check());
        assertEquals(5300, config.services().get(1).check().portFor(5353));
        assertEquals(null, config.services().get(2).check());
        assertEquals(config, build(ConfigWriter.format(config)));
        assertTrue(ConfigWriter.format(config).contains("  check tcp\n  check-interval 1s\n  check-timeout 1s\n" +
            "  check-rise 2\n  check-fall 3\n"), ConfigWriter.format(config));
    }

    @Test
    void tcpCheckErrorsNameTheField()
    {
        assertEquals("lb.conf:7: check-port: needs 'check tcp' in service 'web'", error(withService("check-port 81")));
        assertEquals("lb.conf:8: check-interval: needs 'check tcp' in service 'web'",
            error(withService("check none", "check-interval 2s")));
        assertEquals("lb.conf:7: check: expected tcp or none, got 'http'", error(withService("check http")));
        assertEquals("lb.conf:8: check-rise: expected an integer 1..100, got '0'", error(withService("check tcp", "check-rise 0")));
        assertEquals("lb.conf:8: check-fall: expected an integer 1..100, got '101'",
            error(withService("check tcp", "check-fall 101")));
        assertEquals("lb.conf:8: check-port: expected a port 1..65535, got '70000'",
            error(withService("check tcp", "check-port 70000")));
        assertEquals("lb.conf:8: check-timeout: expected a positive duration, got '0s'",
            error(withService("check tcp", "check-timeout 0s")));
        assertEquals("lb.conf:8: check-fall: already set (line 7)", error(withService("check-fall 2", "check-fall 3")));
        assertEquals("lb.conf:6: check: service 'dns' is udp: give check-port, the TCP port to check",
            error(HEADER + "\nservice dns 198.18.0.100:53/udp\n  check tcp\n  backend 198.18.1.11\n"));
        assertEquals("lb.conf:5: check: must follow a 'service' line", error(HEADER + "\ncheck tcp"));
    }

    @Test
    void oneWayModesRejectWhatTheyCannotDo()
    {
        assertEquals("lb.conf:8: backend: 198.18.1.11:8080: a dsr service cannot change the port (the backend gets " +
                "the client's packet unchanged, to port 80); drop ':8080' or use mode nat",
            error(HEADER + "\nserver-network 198.18.1.0/24\nservice web 198.18.0.100:80/tcp\n  mode dsr\n" +
                "  backend 198.18.1.11:8080\n"));
        assertEquals("lb.conf:6: mode: dsr needs the server-side LAN: add 'server-network PREFIX' (e.g. 198.18.1.0/24) " +
                "above the services",
            error(HEADER + "\nservice web 198.18.0.100:80/tcp\n  mode dsr\n  backend 198.18.1.11\n"));
        assertEquals("lb.conf:8: backend: 198.18.2.11 is not on the server-side LAN 198.18.1.0/24 (server-network, " +
                "line 5): lb reaches backends on that LAN only",
            error(HEADER + "\nserver-network 198.18.1.0/24\nservice web 198.18.0.100:80/tcp\n  mode dsr\n" +
                "  backend 198.18.2.11\n"));
        assertEquals("lb.conf:7: backend: 198.18.1.1 is lb's own address, the gateway-ip (line 4)",
            error(HEADER + "\nservice tun 198.18.0.100:80/tcp\n  mode ipip\n  backend 198.18.1.1\n"));
        assertEquals("lb.conf:7: mode: unknown mode 'dr' (did you mean 'dsr'?), expected one of nat, dsr, ipip",
            error(HEADER + "\nservice web 198.18.0.100:80/tcp\n  backend 198.18.1.11\n  mode dr\n"));
        assertEquals("lb.conf:5: bgp-local AS: AS number '0' is not 1..4294967295",
            error(HEADER + "\nbgp-local 198.18.3.11 0\n"));
        assertEquals("lb.conf: bgp-neighbor: not set (add 'bgp-neighbor IP AS')",
            error(HEADER + "\nbgp-local 198.18.3.11 65001\nservice web 198.18.0.100:80/tcp\n  backend 198.18.1.11\n"));
    }

    static final String ROUTE_HEADER = HEADER + "\nserver-network 198.18.1.0/24\n" +
        "service web 198.18.0.100:80/tcp\n  backend 198.18.1.11\n";

    @Test
    void routesParseAndPrintBack()
    {
        final LbConfig config = build(ROUTE_HEADER + "route far 198.19.0.0/16\n  policy least-flows\n  rebalance on\n" +
            "  next-hop 198.18.1.51\n  next-hop 198.18.1.52\nroute near 198.18.128.0/20\n  policy flowlet\n" +
            "  flowlet-gap 5ms\n  next-hop 198.18.1.53\n");
        assertEquals(2, config.routes().size());
        final RouteConfig far = config.routes().get(0);
        assertEquals("198.19.0.0/16", far.prefix().toString());
        assertEquals(SpreadPolicy.LEAST_FLOWS, far.policy());
        assertTrue(far.rebalance());
        assertEquals(List.of(Ipv4.parse("198.18.1.51"), Ipv4.parse("198.18.1.52")), far.nextHops());
        assertEquals(Duration.ofMillis(5), config.routes().get(1).flowletGap());
        assertEquals(config, build(ConfigWriter.format(config)));
        assertEquals(SpreadPolicy.FLOW_HASH, build(ROUTE_HEADER + "route r 198.19.0.0/16\n  next-hop 198.18.1.51\n")
            .routes().get(0).policy(), "flow-hash by default");
    }

    @Test
    void routesRejectOverlapsEmptyGroupsAndNextHopsOffTheLan()
    {
        assertEquals("lb.conf:8: route far: 198.18.0.0/24 holds VIP 198.18.0.100 of service 'web': a VIP cannot be " +
            "routed through", error(ROUTE_HEADER + "route far 198.18.0.0/24\n  next-hop 198.18.1.51\n"));
        assertEquals("lb.conf:8: route far: no next hops (add 'next-hop IP' lines after it)",
            error(ROUTE_HEADER + "route far 198.19.0.0/16\n  policy packet\n"));
        assertEquals("lb.conf:9: next-hop: 198.18.2.51 is outside server-network 198.18.1.0/24: next hops must be on " +
            "the server-side LAN", error(ROUTE_HEADER + "route far 198.19.0.0/16\n  next-hop 198.18.2.51\n"));
        assertEquals("lb.conf:10: route b: 198.19.1.0/24 overlaps route 'a' 198.19.0.0/16 (line 8)",
            error(ROUTE_HEADER + "route a 198.19.0.0/16\n  next-hop 198.18.1.51\nroute b 198.19.1.0/24\n" +
                "  next-hop 198.18.1.52\n"));
        assertEquals("lb.conf:9: policy: unknown policy 'least-flow' (did you mean 'least-flows'?), expected one of packet, " +
            "flow-random, flow-hash, least-flows, flowlet", error(ROUTE_HEADER + "route far 198.19.0.0/16\n  policy least-flow\n"));
        assertEquals("lb.conf:10: rebalance: needs policy least-flows (route 'far' has flow-hash)",
            error(ROUTE_HEADER + "route far 198.19.0.0/16\n  next-hop 198.18.1.51\n  rebalance on\n"));
        assertEquals("lb.conf:10: next-hop: 198.18.1.51 is already a next hop of route 'far' (line 9)",
            error(ROUTE_HEADER + "route far 198.19.0.0/16\n  next-hop 198.18.1.51\n  next-hop 198.18.1.51\n"));
        assertEquals("lb.conf:9: backend: not a route setting (route 'far' takes next-hop, policy, rebalance, flowlet-gap)",
            error(ROUTE_HEADER + "route far 198.19.0.0/16\n  backend 198.18.1.51\n"));
        assertEquals("lb.conf:7: route far: needs server-network (the LAN its next hops are on)",
            error(HEADER + "\nservice web 198.18.0.100:80/tcp\n  backend 198.18.1.11\nroute far 198.19.0.0/16\n" +
                "  next-hop 198.18.1.51\n"));
    }

    private static String error(final String text)
    {
        return assertThrows(ConfigException.class, () -> build(text)).getMessage();
    }

    private static LbConfig build(final String text)
    {
        return ConfigParser.parse("lb.conf", text).build();
    }

    private static String manyBackends(final int count)
    {
        final StringBuilder lines = new StringBuilder();
        for (int i = 0; i < count; i++)
        {
            lines.append("backend 198.19.").append(i / 250).append('.').append(1 + i % 250).append('\n');
        }
        return lines.toString();
    }
}
