package lb.control.lbctl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import lb.control.socket.CommandDispatcher;
import lb.control.socket.ControlServer;
import lb.control.socket.ControlSocketOptions;
import lb.control.socket.InMemoryRuntime;
import lb.control.socket.Json;
import lb.control.socket.RuntimeCommands;
import lb.dataplane.sched.AdminState;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** lbctl against a real control socket served over an in-memory runtime. */
class LbctlTest
{
    @TempDir
    Path dir;

    private final InMemoryRuntime runtime = InMemoryRuntime.withWebService();
    private final List<String> log = new ArrayList<>();
    private ControlServer server;

    @BeforeEach
    void startServer() throws IOException
    {
        server = ControlServer.start(ControlSocketOptions.at(dir.resolve("lb.sock")),
            RuntimeCommands.register(new CommandDispatcher(log::add), runtime), log::add);
    }

    @AfterEach
    void stopServer()
    {
        server.close();
    }

    private record Run(int exit, String out, String err)
    {
    }

    private Run lbctl(final boolean terminal, final String... args)
    {
        final List<String> all = new ArrayList<>(List.of("--socket", server.path().toString()));
        all.addAll(List.of(args));
        return lbctlRaw(terminal, all.toArray(new String[0]));
    }

    private Run lbctl(final String... args)
    {
        return lbctl(false, args);
    }

    private static Run lbctlRaw(final boolean terminal, final String... args)
    {
        final StringWriter out = new StringWriter();
        final StringWriter err = new StringWriter();
        final int exit = LbctlCommand.run(terminal, new PrintWriter(out), new PrintWriter(err), args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Test
    void showPrintsTheTableAndExitsZero()
    {
        final Run run = lbctl("show", "stat");
        assertEquals(0, run.exit(), run.err());
        assertEquals("", run.err());
        assertTrue(run.out().startsWith("SERVICE  BACKEND"), run.out());
        assertEquals(4, run.out().split("\n").length, run.out());
    }

    @Test
    void everyShowCommandWorks()
    {
        for (final String what : List.of("info", "stat", "drops", "flows", "latency", "metrics"))
        {
            final Run run = lbctl("show", what);
            assertEquals(0, run.exit(), what + ": " + run.err());
            assertFalse(run.out().isEmpty(), what);
        }
        assertTrue(lbctl("show", "metrics").out().contains("# TYPE lb_rx_packets_total counter\n"));
    }

    @Test
    void jsonPassesTheServersJsonThrough()
    {
        runtime.forward("web", "198.18.1.11:80", 2, 20, 3_000);
        for (final String[] args : List.of(new String[] {"--json", "show", "stat"}, new String[] {"show", "stat", "--json"}))
        {
            final Run run = lbctl(args);
            assertEquals(0, run.exit(), run.err());
            @SuppressWarnings("unchecked")
            final Map<String, Object> stat = (Map<String, Object>)Json.parse(run.out());
            @SuppressWarnings("unchecked")
            final List<Map<String, Object>> services = (List<Map<String, Object>>)stat.get("services");
            assertEquals(20L, services.get(0).get("packets"));
        }
        final Run flows = lbctl("--json", "show", "flows", "5");
        assertEquals("[]\n", flows.out());
    }

    @Test
    void changesReachTheRuntime()
    {
        assertEquals(new Run(0, "web 198.18.1.11: weight 6\n", ""), lbctl("set", "weight", "web", "198.18.1.11", "6"));
        assertEquals(6, runtime.backend("web", "198.18.1.11:80").weight());
        assertEquals(0, lbctl("set", "state", "web", "198.18.1.12:8080", "drain").exit());
        assertEquals(AdminState.DRAIN, runtime.backend("web", "198.18.1.12:8080").state());
        assertEquals(0, lbctl("add", "service", "dns", "198.18.0.53:53/udp", "sh").exit());
        assertEquals(0, lbctl("add", "backend", "dns", "198.18.1.21").exit());
        assertEquals(0, lbctl("add", "backend", "dns", "198.18.1.22:5353", "4").exit());
        assertEquals(4, runtime.backend("dns", "198.18.1.22:5353").weight());
        assertEquals(0, lbctl("del", "backend", "dns", "198.18.1.21").exit());
        assertEquals(0, lbctl("del", "service", "dns").exit());
        assertFalse(runtime.hasService("dns"));
        // --json does not change the one-line answers of changes.
        assertEquals(new Run(0, "web 198.18.1.11: weight 2\n", ""),
            lbctl("--json", "set", "weight", "web", "198.18.1.11", "2"));
    }

    @Test
    void anErrorAnswerExitsOneWithTheMessageOnStderr()
    {
        assertEquals(new Run(1, "", "error: invalid WEIGHT: expected an integer 0..10000, got '99999'\n"),
            lbctl("set", "weight", "web", "198.18.1.11", "99999"));
        assertEquals(new Run(1, "", "error: unknown service 'api'\n"), lbctl("del", "service", "api"));
        assertEquals(new Run(1, "", "error: invalid N: expected an integer 1..100000, got 'many'\n"),
            lbctl("--json", "show", "flows", "many"));
        assertEquals(3, runtime.backend("web", "198.18.1.11:80").weight());
    }

    @Test
    void argumentsWithSpacesAreQuotedOnTheWire()
    {
        final Run run = lbctl("del", "service", "my service");
        assertEquals(1, run.exit());
        assertTrue(run.err().startsWith("error: invalid NAME: expected a name of letters"), run.err());
        assertTrue(run.err().endsWith("got 'my service'\n"), run.err());
    }

    @Test
    void aUsageErrorExitsTwo()
    {
        for (final String[] args : List.of(
            new String[] {"set", "weight", "web"},
            new String[] {"set", "weight", "web", "198.18.1.11", "5", "6"},
            new String[] {"frobnicate"},
            new String[] {"show", "everything"},
            new String[] {"show"},
            new String[] {},
            new String[] {"--bogus", "show", "info"},
            new String[] {"watch", "--interval", "soon"},
            new String[] {"watch", "--count", "-1"}))
        {
            final Run run = lbctl(args);
            assertEquals(2, run.exit(), String.join(" ", args) + ": " + run.out() + run.err());
            assertTrue(run.err().startsWith("lbctl: "), run.err());
            assertTrue(run.err().contains("try 'lbctl"), run.err());
        }
        assertEquals(3, runtime.backend("web", "198.18.1.11:80").weight());
    }

    @Test
    void noSocketExitsThreeNamingThePathAndTheReason()
    {
        final Path missing = dir.resolve("missing.sock");
        final Run run = lbctlRaw(false, "--socket", missing.toString(), "show", "info");
        assertEquals(new Run(3, "", "lbctl: cannot connect to " + missing + ": No such file or directory " +
            "(is lb running?)\n"), run);
        assertEquals(3, lbctlRaw(false, "--socket", missing.toString(), "watch", "--count", "1").exit());
    }

    @Test
    void aSocketNobodyListensOnExitsThree()
    {
        final Path path = server.path();
        server.close();
        // Leave a dead socket file behind, as a crashed lb would.
        final Run run = lbctlRaw(false, "--socket", path.toString(), "show", "info");
        assertEquals(3, run.exit());
        assertTrue(run.err().startsWith("lbctl: cannot connect to " + path + ": "), run.err());
    }

    @Test
    void helpDocumentsTheExitCodes()
    {
        final Run run = lbctlRaw(false, "--help");
        assertEquals(0, run.exit());
        assertTrue(run.out().contains("Exit status:\n  0  done\n  1  lb answered with an error"), run.out());
        assertTrue(run.out().contains("  2  usage error"), run.out());
        assertTrue(run.out().contains("  3  cannot connect"), run.out());
        assertTrue(run.out().contains("--socket=PATH"), run.out());
    }

    @Test
    void watchShowsRatesFromTwoSamples()
    {
        // Between two samples the dataplane forwards a fixed amount in one second of its clock.
        runtime.beforeStats(() ->
        {
            runtime.advanceClock(Duration.ofSeconds(1));
            runtime.forward("web", "198.18.1.11:80", 10, 1_000, 1_500_000);
            runtime.forward("web", "198.18.1.12:8080", 1, 50, 2_000);
        });
        final Run run = lbctl("watch", "--interval", "10ms", "--count", "2");
        assertEquals(0, run.exit(), run.err());
        final String[] blocks = run.out().split("\n\n");
        assertEquals(2, blocks.length, run.out());
        for (final String block : blocks)
        {
            final String[] lines = block.split("\n");
            assertEquals(4, lines.length, block);
            assertTrue(lines[0].startsWith("lb " + server.path() + "  every 10ms  "), lines[0]);
            assertTrue(lines[1].matches("SERVICE +BACKEND +STATE +HEALTH +WEIGHT +ACTIVE +NEW/S +PACKETS/S +BYTES/S"),
                lines[1]);
            assertTrue(lines[2].matches("web +198\\.18\\.1\\.11:80 +ready +unknown +3 +\\d+ +10\\.0 +1\\.00k +1\\.50M"),
                lines[2]);
            assertTrue(lines[3].matches("web +198\\.18\\.1\\.12:8080 +ready +unknown +1 +\\d+ +1\\.00 +50\\.0 +2\\.00k"),
                lines[3]);
        }
        assertFalse(run.out().contains("\033["), "no screen control codes when not on a terminal");
    }

    @Test
    void watchRedrawsTheScreenOnATerminal()
    {
        final Run run = lbctl(true, "watch", "--interval", "10ms", "--count", "2");
        assertEquals(0, run.exit(), run.err());
        assertEquals(2, run.out().split("\033\\[H\033\\[2J", -1).length - 1, run.out());
        assertTrue(run.out().startsWith("\033[H\033[2J"));
    }

    @Test
    void watchJsonPrintsOneObjectPerRefresh()
    {
        runtime.beforeStats(() ->
        {
            runtime.advanceClock(Duration.ofMillis(500));
            runtime.forward("web", "198.18.1.11:80", 5, 100, 10_000);
        });
        final Run run = lbctl("--json", "watch", "--interval", "10ms", "--count", "3");
        assertEquals(0, run.exit(), run.err());
        final String[] lines = run.out().split("\n");
        assertEquals(3, lines.length, run.out());
        for (final String line : lines)
        {
            @SuppressWarnings("unchecked")
            final Map<String, Object> refresh = (Map<String, Object>)Json.parse(line);
            assertEquals(0.5, refresh.get("seconds"));
            @SuppressWarnings("unchecked")
            final Map<String, Object> first = ((List<Map<String, Object>>)refresh.get("backends")).get(0);
            assertEquals(10L, first.get("new_flows_per_s"));
            assertEquals(200L, first.get("packets_per_s"));
            assertEquals(20_000L, first.get("bytes_per_s"));
        }
    }

    @Test
    void watchFormatsRatesWithSiPrefixes()
    {
        assertEquals("-", WatchView.format(null));
        assertEquals("0.00", WatchView.format(0.0));
        assertEquals("9.99", WatchView.format(9.99));
        assertEquals("12.5", WatchView.format(12.5));
        assertEquals("999", WatchView.format(999.0));
        assertEquals("1.00k", WatchView.format(999.7));
        assertEquals("12.3M", WatchView.format(12_345_678.0));
        assertEquals("2.00G", WatchView.format(2e9));
    }
}
