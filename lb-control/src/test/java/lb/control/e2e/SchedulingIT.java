package lb.control.e2e;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import lb.control.testbed.Testbed;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * New connections through the VIP land on backends exactly as the schedulers promise. Each test
 * gets a fresh testbed, so no late packet of an earlier test's connections reaches its lb.
 */
class SchedulingIT extends FreshTestbed
{
    @Test
    void roundRobinSpreads300ConnectionsExactlyEvenly()
    {
        try (LbRun lb = LbRun.start(testbed, dir, testbed.lbArgs(), 3))
        {
            final Map<String, Integer> answers = LbRun.requests(testbed, "c1", 300);
            assertEquals(Map.of("198.18.1.11", 100, "198.18.1.12", 100, "198.18.1.13", 100), answers);
            final Map<String, Long> counters = lb.stop();
            assertEquals(300, counters.get("flows_created"));
            assertEquals(0, counters.get("drops_total"), counters.toString());
        }
    }

    @Test
    void weightedRoundRobin28To3To2()
    {
        final List<String> args = new ArrayList<>(testbed.lbArgs());
        args.set(args.indexOf("rr"), "wrr");
        args.addAll(List.of("--weights", "28,3,2"));
        try (LbRun lb = LbRun.start(testbed, dir, args, 3))
        {
            final Map<String, Integer> answers = LbRun.requests(testbed, "c2", 330);
            assertEquals(Map.of("198.18.1.11", 280, "198.18.1.12", 30, "198.18.1.13", 20), answers);
        }
    }

    @Test
    void leastConnectionsSendsNewConnectionsAwayFromHeldOnes() throws Exception
    {
        final List<String> args = new ArrayList<>(testbed.lbArgs());
        args.set(args.indexOf("rr"), "lc");
        try (LbRun lb = LbRun.start(testbed, dir, args, 3); ConnectionHolder holder = new ConnectionHolder(testbed, "c1", 6))
        {
            final Map<Integer, String> serverOfPort = holder.serverOfPort(testbed, "c1");
            assertEquals(6, serverOfPort.size(), serverOfPort.toString());
            assertEquals(2, serverOfPort.values().stream().filter("198.18.1.11"::equals).count(),
                "least connections spreads 6 held connections 2/2/2: " + serverOfPort);

            // Keep the two on backend 1, close the rest: backend 1 is now the busy one.
            for (final int port : holder.ports)
            {
                if (!serverOfPort.get(port).equals("198.18.1.11"))
                {
                    assertTrue(holder.command("close " + port).startsWith("closed "));
                }
            }
            LbRun.sleep(200); // the FIN exchanges reach lb

            final Map<String, Integer> answers = LbRun.requests(testbed, "c2", 12);
            assertNull(answers.get("198.18.1.11"), "no new connection to the backend holding two: " + answers);
            assertEquals(12, answers.getOrDefault("198.18.1.12", 0) + answers.getOrDefault("198.18.1.13", 0), answers.toString());
            assertTrue(answers.getOrDefault("198.18.1.12", 0) >= 5 && answers.getOrDefault("198.18.1.13", 0) >= 5, answers.toString());
        }
    }
}
