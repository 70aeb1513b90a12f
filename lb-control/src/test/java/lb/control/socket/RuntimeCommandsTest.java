package lb.control.socket;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import lb.control.config.Ipv4;
import lb.control.config.Protocol;
import lb.control.config.RouteConfig;
import lb.control.socket.RuntimeApi.FlowSample;
import lb.control.socket.RuntimeApi.FlowState;
import lb.dataplane.sched.AdminState;
import lb.dataplane.spread.SpreadPolicy;
import org.junit.jupiter.api.Test;

class RuntimeCommandsTest
{
    private final InMemoryRuntime runtime = InMemoryRuntime.withWebService();
    private final List<String> log = new ArrayList<>();
    private final CommandDispatcher dispatcher = RuntimeCommands.register(new CommandDispatcher(log::add), runtime);

    private String run(final String line)
    {
        return dispatcher.dispatch(line).text();
    }

    @SuppressWarnings("unchecked")
    private <T> T json(final String line)
    {
        final String text = run(line);
        assertFalse(text.startsWith("error:"), text);
        assertEquals(1, text.split("\n").length, "JSON answers are one line: " + text);
        return (T)Json.parse(text);
    }

    @Test
    void helpListsEveryRuntimeCommand()
    {
        final String help = run("help");
        for (final String usage : List.of("show info [json]", "show stat [json]", "show drops [json]",
            "show flows [N] [json]", "show latency [json]", "show metrics [json]", "set weight SERVICE BACKEND WEIGHT",
            "set state SERVICE BACKEND ready|drain|maint", "add backend SERVICE IP[:PORT] [WEIGHT]",
            "del backend SERVICE IP[:PORT]", "add service NAME VIP:PORT/PROTO [SCHEDULER] [MODE] [check=tcp] [check-port=PORT] [check-interval=D] " +
            "[check-timeout=D] [check-rise=N] [check-fall=N]", "del service NAME", "help",
            "quit"))
        {
            assertTrue(help.contains(usage + "  "), usage + " in\n" + help);
        }
    }

    @Test
    void showInfoAsTextAndJson()
    {
        runtime.forward("web", "198.18.1.11:80", 3, 100, 20_000);
        runtime.countDrop("truncated", 5);
        runtime.advanceClock(Duration.ofSeconds(3_725));
        final String text = run("show info");
        assertTrue(text.startsWith("version:                         0.1.0-test\n" +
            "uptime:                          1h 2m 6s\n" +
            "workers:                         2\n"), text);
        assertTrue(text.contains("\ndropped:                         5\n"), text);
        assertTrue(text.contains("\nflow_table_use:                  0.0%\n"), text);
        assertTrue(text.contains("\nworker_busy:                     210.00ms\n"), text);
        // 105 frames in 210 ms of busy time.
        assertTrue(text.contains("\ncapacity_pps:                    500\n"), text);

        final Map<String, Object> info = json("show info json");
        assertEquals("0.1.0-test", info.get("version"));
        assertEquals(3_726_000_000_000L, info.get("uptime_ns"));
        assertEquals(105L, info.get("rx_packets"));
        assertEquals(100L, info.get("tx_packets"));
        assertEquals(20_000L, info.get("tx_bytes"));
        assertEquals(5L, info.get("dropped"));
        assertEquals(1_048_576L, info.get("flow_capacity"));
        assertEquals(210_000_000L, info.get("worker_busy_ns"));
        assertEquals(52_500_000L, info.get("worker_tx_kick_ns"));
        assertEquals(105L, info.get("worker_busy_cycles"));
        assertEquals(7L, info.get("worker_sleeps"));
        assertEquals(500L, info.get("capacity_pps"));
        assertEquals(0L, info.get("icmp_errors_forwarded_to_server"));
        assertEquals(0L, info.get("icmp_errors_forwarded_to_client"));
    }

    @Test
    void showStatListsServicesAndBackends()
    {
        runtime.forward("web", "198.18.1.11:80", 4, 400, 60_000);
        runtime.probeAnswered("web", "198.18.1.11:80", 250_000);
        final String text = run("show stat");
        final String[] lines = text.split("\n");
        assertEquals(4, lines.length, text);
        assertTrue(lines[0].matches("SERVICE +BACKEND +STATE +HEALTH +WEIGHT +ACTIVE +NEW +PACKETS +BYTES +PROBE_RTT"),
            lines[0]);
        assertTrue(lines[1].matches("web +198\\.18\\.0\\.100:80/tcp +wrr +- +- +4 +4 +400 +60000 +-"), lines[1]);
        assertTrue(lines[2].matches("web +198\\.18\\.1\\.11:80 +ready +up +3 +4 +4 +400 +60000 +250\\.0us"), lines[2]);
        assertTrue(lines[3].matches("web +198\\.18\\.1\\.12:8080 +ready +unknown +1 +0 +0 +0 +0 +-"), lines[3]);
        // Columns line up: every row is as wide as the header up to the last column.
        assertEquals(lines[0].indexOf("PROBE_RTT") + "PROBE_RTT".length(), lines[2].length());

        final Map<String, Object> stat = json("show stat json");
        assertEquals(1_000_000_000L, stat.get("sampled_at_ns"));
        @SuppressWarnings("unchecked")
        final Map<String, Object> web = ((List<Map<String, Object>>)stat.get("services")).get(0);
        assertEquals("web", web.get("name"));
        assertEquals("198.18.0.100", web.get("vip"));
        assertEquals("tcp", web.get("protocol"));
        @SuppressWarnings("unchecked")
        final List<Map<String, Object>> backends = (List<Map<String, Object>>)web.get("backends");
        assertEquals(Map.of("ip", "198.18.1.11", "port", 80L, "state", "ready", "health", "up", "weight", 3L,
            "active_flows", 4L, "new_flows", 4L, "packets", 400L, "bytes", 60_000L, "last_probe_rtt_ns", 250_000L),
            backends.get(0));
        assertNull(backends.get(1).get("last_probe_rtt_ns"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void showStatAccountsForEachWorkersFrames()
    {
        runtime.workerTraffic(List.of(new RuntimeApi.WorkerTraffic(0, 100, 60, 5, 3, 30, 7, 2),
            new RuntimeApi.WorkerTraffic(1, 50, 40, 0, 0, 9, 0, 0)));
        final String[] lines = run("show stat").split("\n");
        int header = 0;
        while (header < lines.length && !lines[header].startsWith("WORKER"))
        {
            header++;
        }
        assertEquals(lines.length - 3, header, "the workers' table ends the answer: " + String.join("\n", lines));
        assertTrue(lines[header].matches("WORKER +RX +TX +ANSWERED +TO_CONTROL +DROPS +RX_RING_OVERFLOW +MADE_UP +UNACCOUNTED"),
            lines[header]);
        assertTrue(lines[header + 1].matches(" *0 +100 +60 +5 +3 +30 +7 +2 +2"), lines[header + 1]);
        assertTrue(lines[header + 2].matches(" *1 +50 +40 +0 +0 +9 +0 +0 +1"), lines[header + 2]);

        final Map<String, Object> stat = json("show stat json");
        final List<Map<String, Object>> workers = (List<Map<String, Object>>)stat.get("workers");
        assertEquals(2, workers.size());
        assertEquals(0L, workers.get(0).get("worker"));
        assertEquals(100L, workers.get(0).get("rx_frames"));
        assertEquals(60L, workers.get(0).get("tx_frames"));
        assertEquals(5L, workers.get(0).get("answered"));
        assertEquals(3L, workers.get(0).get("to_control"));
        assertEquals(30L, workers.get(0).get("drops"));
        assertEquals(7L, workers.get(0).get("rx_ring_overflow"));
        assertEquals(2L, workers.get(0).get("made_up"));
        assertEquals(2L, workers.get(0).get("unaccounted"), "100 - 60 - 5 - 30 - 3");
        assertEquals(1L, workers.get(1).get("unaccounted"));
    }

    @Test
    void setWeightChangesTheBackend()
    {
        assertEquals("web 198.18.1.11: weight 7\n", run("set weight web 198.18.1.11 7"));
        assertEquals(7, runtime.backend("web", "198.18.1.11:80").weight());
        assertEquals("web 198.18.1.12:8080: weight 0\n", run("set weight web 198.18.1.12:8080 0"));
        assertEquals(0, runtime.backend("web", "198.18.1.12:8080").weight());
    }

    @Test
    void setStateTakesReadyDrainOrMaint()
    {
        assertEquals("web 198.18.1.11: state drain\n", run("set state web 198.18.1.11 drain"));
        assertEquals(AdminState.DRAIN, runtime.backend("web", "198.18.1.11:80").state());
        run("set state web 198.18.1.11 maint");
        assertEquals(AdminState.MAINT, runtime.backend("web", "198.18.1.11:80").state());
        run("set state web 198.18.1.11 ready");
        assertEquals(AdminState.READY, runtime.backend("web", "198.18.1.11:80").state());
        assertEquals("error: invalid STATE: expected ready, drain or maint, got 'down'\n",
            run("set state web 198.18.1.11 down"));
    }

    @Test
    void badArgumentsAreNamedInOneLine()
    {
        assertEquals("error: invalid WEIGHT: expected an integer 0..10000, got '10001'\n",
            run("set weight web 198.18.1.11 10001"));
        assertEquals("error: invalid WEIGHT: expected an integer 0..10000, got '-1'\n",
            run("set weight web 198.18.1.11 -1"));
        assertEquals("error: invalid BACKEND: expected an IPv4 address a.b.c.d, got '198.18.1' (3 parts, need 4)\n",
            run("set weight web 198.18.1 5"));
        assertEquals("error: invalid BACKEND: expected a port 1..65535, got '0'\n", run("set weight web 198.18.1.11:0 5"));
        assertTrue(run("set weight \"we b\" 198.18.1.11 5").startsWith("error: invalid SERVICE: expected a name"));
        assertEquals("error: invalid VIP:PORT/PROTO: expected tcp or udp, got 'sctp'\n",
            run("add service dns 198.18.0.53:53/sctp"));
        assertEquals("error: invalid SCHEDULER: unknown scheduler 'wlcc' (did you mean 'wlc'?), expected one of " +
            "random, rr, wrr, lc, wlc, sh, maglev\n", run("add service dns 198.18.0.53:53/udp wlcc"));
        assertEquals("error: invalid N: expected an integer 1..100000, got '0'\n", run("show flows 0"));
        assertEquals("error: missing WEIGHT; usage: set weight SERVICE BACKEND WEIGHT\n",
            run("set weight web 198.18.1.11"));
        assertEquals(3, runtime.backend("web", "198.18.1.11:80").weight());
    }

    @Test
    void refusalsOfTheApplianceAreErrors()
    {
        assertEquals("error: unknown service 'api'\n", run("set weight api 198.18.1.11 5"));
        assertEquals("error: service web has no backend 198.18.1.99:80\n", run("set state web 198.18.1.99 drain"));
        assertEquals("error: service web already has backend 198.18.1.11:80\n", run("add backend web 198.18.1.11:80"));
        assertEquals("error: service web exists already\n", run("add service web 198.18.0.101:80/tcp"));
    }

    @Test
    void backendsAndServicesComeAndGo()
    {
        assertEquals("added service dns 198.18.0.53:53/udp scheduler sh mode nat\n", run("add service dns 198.18.0.53:53/udp sh"));
        assertEquals("dns: added backend 198.18.1.21 weight 1\n", run("add backend dns 198.18.1.21"));
        assertEquals("dns: added backend 198.18.1.22:5353 weight 9\n", run("add backend dns 198.18.1.22:5353 9"));
        assertEquals(1, runtime.backend("dns", "198.18.1.21:53").weight());
        assertEquals(9, runtime.backend("dns", "198.18.1.22:5353").weight());
        assertTrue(run("show stat").contains("dns      198.18.0.53:53/udp"), run("show stat"));

        assertEquals("dns: removed backend 198.18.1.21\n", run("del backend dns 198.18.1.21"));
        assertNull(runtime.backend("dns", "198.18.1.21:53"));
        assertEquals("removed service dns\n", run("del service dns"));
        assertFalse(runtime.hasService("dns"));
        assertEquals("added service api 198.18.0.101:443/tcp scheduler wlc mode nat\n", run("add service api 198.18.0.101:443/tcp"));
        assertEquals("error: mode dsr is not supported here\n", run("add service api2 198.18.0.102:443/tcp maglev dsr"));
        assertEquals("error: check-port: needs check=tcp\n", run("add service c1 198.18.0.104:80/tcp rr check-port=81"));
        assertEquals("error: invalid check-rise: expected an integer 1..100, got '0'\n",
            run("add service c2 198.18.0.104:80/tcp check=tcp check-rise=0"));
        assertEquals("error: invalid check: expected tcp or none, got 'http'\n", run("add service c3 198.18.0.104:80/tcp check=http"));
        assertEquals("error: unknown option 'check-intervl' (did you mean 'check-interval'?), expected one of check, check-port, " +
            "check-interval, check-timeout, check-rise, check-fall\n", run("add service c4 198.18.0.104:80/tcp check=tcp check-intervl=1s"));
        assertEquals("error: check: the service is udp: give check-port=PORT, the TCP port to check\n",
            run("add service c5 198.18.0.104:53/udp check=tcp"));
        assertEquals("error: check-fall: given twice\n", run("add service c6 198.18.0.104:80/tcp check=tcp check-fall=2 check-fall=3"));
        assertEquals("error: invalid MODE: unknown mode 'x', expected one of nat, dsr, ipip\n", run("add service api3 198.18.0.103:443/tcp maglev x"));
    }

    @Test
    @SuppressWarnings("unchecked")
    void ipv6ServicesAndBackendsAreWrittenInBracketsAndPrintedInRfc5952Form()
    {
        assertEquals("added service web6 [2001:2::100]:80/tcp scheduler rr mode nat\n",
            run("add service web6 [2001:0002:0::0100]:80/tcp rr"));
        assertEquals("web6: added backend 2001:2:0:1::11 weight 1\n", run("add backend web6 2001:2:0:1:0:0:0:11"));
        assertEquals("web6: added backend [2001:2:0:1::12]:8080 weight 9\n", run("add backend web6 [2001:2:0:1::12]:8080 9"));
        assertEquals(9, runtime.backend("web6", "[2001:2:0:1::12]:8080").weight());
        run("set weight web6 [2001:2:0:1::12]:8080 5");
        assertEquals(5, runtime.backend("web6", "[2001:2:0:1::12]:8080").weight());
        runtime.forward("web6", "[2001:2:0:1::11]:80", 2, 20, 3000);

        final String stat = run("show stat");
        assertTrue(stat.matches("(?s).*\nweb6 +\\[2001:2::100\\]:80/tcp +rr .*"), stat);
        assertTrue(stat.matches("(?s).*\nweb6 +\\[2001:2:0:1::11\\]:80 +ready +unknown +1 +2 +2 +20 +3000 .*"), stat);
        final List<Map<String, Object>> services = (List<Map<String, Object>>)((Map<String, Object>)json("show stat json")).get("services");
        final Map<String, Object> web6 = services.stream().filter(s -> s.get("name").equals("web6")).findFirst().orElseThrow();
        assertEquals("2001:2::100", web6.get("vip"));
        assertEquals("2001:2:0:1::11", ((List<Map<String, Object>>)web6.get("backends")).get(0).get("ip"));
        assertTrue(run("show metrics").contains("lb_backend_flows_total{service=\"web6\",backend=\"[2001:2:0:1::11]:80\"} 2\n"),
            run("show metrics"));

        assertEquals("web6: removed backend 2001:2:0:1::11\n", run("del backend web6 2001:2:0:1::11"));
        assertNull(runtime.backend("web6", "[2001:2:0:1::11]:80"));
        assertEquals("error: invalid VIP:PORT/PROTO: expected VIP:PORT/PROTO with an IPv6 VIP in brackets such as " +
            "[2001:2::100]:80/tcp, got '2001:2::101:80/tcp'\n", run("add service web7 2001:2::101:80/tcp"));
        assertEquals("error: invalid IP[:PORT]: expected an IPv6 host address, got 'ff02::1' (a multicast address)\n",
            run("add backend web6 ff02::1"));
    }

    @Test
    void showFlowsListsUpToN()
    {
        for (int i = 0; i < 5; i++)
        {
            runtime.addFlow(new FlowSample(Protocol.TCP, Ipv4.parse("198.18.0.7"), 40_000 + i, Ipv4.parse("198.18.0.100"),
                80, "web", Ipv4.parse("198.18.1.11"), 80, FlowState.ESTABLISHED, Duration.ofMillis(1_500 + i), 10 + i,
                1_000 + i));
        }
        final String[] lines = run("show flows 3").split("\n");
        assertEquals(4, lines.length);
        assertTrue(lines[0].matches("PROTO +CLIENT +VIP +SERVICE +BACKEND +STATE +AGE +PACKETS +BYTES"), lines[0]);
        assertTrue(lines[1].matches("tcp +198\\.18\\.0\\.7:40000 +198\\.18\\.0\\.100:80 +web +198\\.18\\.1\\.11:80 +" +
            "established +1\\.50s +10 +1000"), lines[1]);
        assertEquals(6, run("show flows").split("\n").length);

        final List<Map<String, Object>> flows = json("show flows 2 json");
        assertEquals(2, flows.size());
        assertEquals(40_001L, flows.get(1).get("client_port"));
        assertEquals(1_501_000_000L, flows.get(1).get("age_ns"));
        assertEquals("established", flows.get(1).get("state"));
    }

    @Test
    void showFlowsWithNoFlowsShowsTheHeader()
    {
        assertEquals("PROTO  CLIENT  VIP  SERVICE  BACKEND  STATE  AGE  PACKETS  BYTES\n", run("show flows"));
        assertEquals("[]\n", run("show flows json"));
    }

    @Test
    void showDropsListsEveryReason()
    {
        runtime.countDrop("bad_checksum", 12);
        final String text = run("show drops");
        assertTrue(text.contains("bad_checksum     12  IPv4 header checksum is wrong\n"), text);
        final List<Map<String, Object>> drops = json("show drops json");
        assertEquals(3, drops.size());
        assertEquals(Map.of("reason", "bad_checksum", "count", 12L, "description", "IPv4 header checksum is wrong"),
            drops.get(1));
    }

    @Test
    void showLatencyGivesPercentiles()
    {
        for (int i = 1; i <= 100; i++)
        {
            runtime.packetProcessed(i * 1_000L);
        }
        runtime.probeAnswered("web", "198.18.1.11:80", 300_000);
        final String text = run("show latency");
        final String[] lines = text.split("\n");
        assertTrue(lines[0].matches("OF +COUNT +P50 +P90 +P99 +P99\\.9 +MAX"), lines[0]);
        assertTrue(lines[1].matches("packet processing +100 +50\\.0us +90\\.0us +99\\.0us +100\\.0us +100\\.0us"), lines[1]);
        assertTrue(lines[2].matches("probe rtt web 198\\.18\\.1\\.11:80 +1 +300\\.0us( +300\\.0us){4}"), lines[2]);
        assertTrue(lines[3].matches("probe rtt web 198\\.18\\.1\\.12:8080 +0( +-){5}"), lines[3]);

        final Map<String, Object> latency = json("show latency json");
        @SuppressWarnings("unchecked")
        final Map<String, Object> processing = (Map<String, Object>)latency.get("packet_processing");
        assertEquals(100L, processing.get("count"));
        // HdrHistogram with 3 significant digits: values are exact to within 0.1%.
        assertEquals(50_000.0, (Long)processing.get("p50_ns"), 50.0);
        assertEquals(99_000.0, (Long)processing.get("p99_ns"), 99.0);
        assertEquals(100_000.0, (Long)processing.get("max_ns"), 100.0);
    }

    @Test
    void nothingWasLogged()
    {
        run("show stat");
        run("set weight nope 198.18.1.11 1");
        assertEquals(List.of(), log);
    }

    @Test
    void formatsTimesForPeople()
    {
        assertEquals("850ns", RuntimeCommands.formatNanos(850));
        assertEquals("12.3us", RuntimeCommands.formatNanos(12_345));
        assertEquals("4.57ms", RuntimeCommands.formatNanos(4_567_000));
        assertEquals("1.23s", RuntimeCommands.formatNanos(1_234_000_000));
        assertEquals("0s", RuntimeCommands.formatUptime(Duration.ZERO));
        assertEquals("2d 0h 0m 1s", RuntimeCommands.formatUptime(Duration.ofSeconds(172_801)));
    }

    @Test
    void routesAreParsedWithTheirPolicyAndOptionAndBadWordsNamed()
    {
        assertEquals("added route far 198.19.0.0/16 policy flow-hash next hops 198.18.1.12,198.18.1.13\n",
            run("add route far 198.19.0.0/16 198.18.1.12,198.18.1.13"));
        assertEquals("added route near 198.20.0.0/24 policy least-flows rebalance on next hops 198.18.1.12\n",
            run("add route near 198.20.0.0/24 198.18.1.12 least-flows rebalance"));
        assertEquals("added route fl 198.21.0.0/24 policy flowlet flowlet-gap 5ms next hops 198.18.1.12\n",
            run("add route fl 198.21.0.0/24 198.18.1.12 flowlet 5ms"));
        final RouteConfig near = runtime.routesAdded.get(1);
        assertEquals(SpreadPolicy.LEAST_FLOWS, near.policy());
        assertTrue(near.rebalance());
        assertEquals(List.of(Ipv4.parse("198.18.1.12")), near.nextHops());
        assertEquals(Duration.ofMillis(5), runtime.routesAdded.get(2).flowletGap());
        assertFalse(runtime.routesAdded.get(0).rebalance());

        assertEquals("error: invalid NEXT-HOP: expected an IPv4 address a.b.c.d, got '198.18.1' (3 parts, need 4)\n",
            run("add route x 198.22.0.0/24 198.18.1.12,198.18.1"));
        assertTrue(run("add route x 198.22.0.0/24 198.18.1.12 least-flow").startsWith(
            "error: invalid POLICY: unknown policy 'least-flow' (did you mean 'least-flows'?)"), run("add route x 198.22.0.0/24 198.18.1.12 least-flow"));
        assertEquals("error: invalid rebalance|GAP: policy least-flows takes 'rebalance', got 'on'\n",
            run("add route x 198.22.0.0/24 198.18.1.12 least-flows on"));
        assertEquals("error: invalid rebalance|GAP: policy packet takes no option ('rebalance' is for least-flows, a gap " +
            "for flowlet)\n", run("add route x 198.22.0.0/24 198.18.1.12 packet rebalance"));
        assertTrue(run("add route x 198.22.0.0/99 198.18.1.12").startsWith("error: invalid PREFIX: "));
        assertEquals("error: missing NEXT-HOP[,NEXT-HOP...]; usage: add route NAME PREFIX NEXT-HOP[,NEXT-HOP...] [POLICY] " +
            "[rebalance|GAP]\n", run("add route x 198.22.0.0/24"));
        assertEquals(3, runtime.routesAdded.size(), "no bad command reached the appliance");

        assertEquals("removed route near\n", run("del route near"));
        assertEquals("error: no route 'near'\n", run("del route near"));
        assertEquals("error: no route 'far'\n", run("del next-hop far 198.18.1.12"), "the default refusal");
    }
}
