package lb.dataplane.spread;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.PriorityQueue;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Seed 002's experiment as a deterministic simulation, driven through the real
 * {@link NextHopGroup} and {@link FlowPaths}: TCP flows arrive as a Poisson process (10 a second
 * for 60 s) with durations uniform in 0.5..10 s, over 2 to 4 paths; each policy places every new
 * flow; the spread max - min of the flows per path is sampled every 100 ms and after every
 * completion. The printed table is in benchmarks/RESULTS.md.
 */
class FlowBalanceSimulationTest
{
    static final double ARRIVALS_PER_S = 10;
    static final double SECONDS = 60;
    static final double MIN_DURATION_S = 0.5;
    static final double MAX_DURATION_S = 10;

    enum Placement
    {
        RANDOM, HASH, LEAST, LEAST_REBALANCE
    }

    record Outcome(Placement placement, int paths, int flows, double meanSpread, int p99Spread, int maxSpreadAtCompletion,
        double meanMaxPerPath, long moves)
    {
    }

    private record Completion(double at, int id)
    {
    }

    static Outcome simulate(final Placement placement, final int paths, final long seed)
    {
        final NextHopGroup group = new NextHopGroup(seed);
        for (int i = 0; i < paths; i++)
        {
            group.setUsable(group.add(0xC6120100 + 11 + i), true, 0x020000000001L + i);
        }
        final FlowPaths flows = new FlowPaths(group, 4096).rebalance(placement == Placement.LEAST_REBALANCE);
        final SplittableRandom random = new SplittableRandom(seed);
        // The flows' 5-tuple hashes from a stream of their own: arrivals and durations stay the same for every placement.
        final SplittableRandom tuples = new SplittableRandom(~seed);
        final PriorityQueue<Completion> ends = new PriorityQueue<>((a, b) -> Double.compare(a.at(), b.at()));
        final List<Integer> samples = new ArrayList<>();
        long maxSum = 0;
        int maxAtCompletion = 0;
        int started = 0;
        double nextArrival = exponential(random);
        double nextSample = 0.1;
        while (nextArrival < SECONDS || !ends.isEmpty())
        {
            final double nextEnd = ends.isEmpty() ? Double.MAX_VALUE : ends.peek().at();
            final double now = Math.min(Math.min(nextArrival < SECONDS ? nextArrival : Double.MAX_VALUE, nextEnd), nextSample);
            if (now == nextSample)
            {
                if (now <= SECONDS)
                {
                    samples.add(spread(group));
                    maxSum += max(group);
                }
                nextSample += 0.1;
                if (nextSample > SECONDS && nextArrival >= SECONDS)
                {
                    nextSample = Double.MAX_VALUE;
                }
            }
            else if (now == nextEnd)
            {
                flows.close(ends.poll().id());
                maxAtCompletion = Math.max(maxAtCompletion, spread(group));
            }
            else
            {
                final int hop = switch (placement)
                {
                    case RANDOM -> group.pickRandom();
                    case HASH -> group.pickHash(tuples.nextInt());
                    case LEAST, LEAST_REBALANCE -> group.pickLeast();
                };
                final int id = flows.open(hop, 0);
                ends.add(new Completion(now + MIN_DURATION_S + random.nextDouble() * (MAX_DURATION_S - MIN_DURATION_S), id));
                started++;
                nextArrival = now + exponential(random);
            }
        }
        final int[] sorted = samples.stream().mapToInt(Integer::intValue).sorted().toArray();
        return new Outcome(placement, paths, started, Arrays.stream(sorted).average().orElse(0),
            sorted[(int)Math.min(sorted.length - 1, Math.ceil(0.99 * sorted.length) - 1)], maxAtCompletion,
            (double)maxSum / sorted.length, flows.moves());
    }

    private static double exponential(final SplittableRandom random)
    {
        return -Math.log(1 - random.nextDouble()) / ARRIVALS_PER_S;
    }

    private static int spread(final NextHopGroup group)
    {
        long min = Long.MAX_VALUE;
        long max = 0;
        for (int i = 0; i < group.size(); i++)
        {
            min = Math.min(min, group.activeFlows(i));
            max = Math.max(max, group.activeFlows(i));
        }
        return (int)(max - min);
    }

    private static long max(final NextHopGroup group)
    {
        long max = 0;
        for (int i = 0; i < group.size(); i++)
        {
            max = Math.max(max, group.activeFlows(i));
        }
        return max;
    }

    @Test
    void rebalancingKeepsEveryPathWithinOneFlowAfterEveryCompletion()
    {
        final StringBuilder table = new StringBuilder(
            "| paths | placement | flows | mean max-min | p99 max-min | worst max-min after a completion | mean max per path | moves |\n" +
            "|---|---|---|---|---|---|---|---|\n");
        for (final int paths : new int[] {2, 3, 4})
        {
            final Outcome[] outcomes = new Outcome[Placement.values().length];
            for (final Placement placement : Placement.values())
            {
                final Outcome o = simulate(placement, paths, 2002);
                outcomes[placement.ordinal()] = o;
                table.append(String.format("| %d | %s | %d | %.2f | %d | %d | %.2f | %d |%n", paths,
                    placement.name().toLowerCase().replace('_', '+'), o.flows(), o.meanSpread(), o.p99Spread(),
                    o.maxSpreadAtCompletion(), o.meanMaxPerPath(), o.moves()));
            }
            final Outcome random = outcomes[Placement.RANDOM.ordinal()];
            final Outcome least = outcomes[Placement.LEAST.ordinal()];
            final Outcome rebalanced = outcomes[Placement.LEAST_REBALANCE.ordinal()];
            // The same arrivals and durations for every placement (one seed): only placement differs.
            for (final Outcome o : outcomes)
            {
                assertEquals(random.flows(), o.flows());
            }
            assertTrue(random.flows() > 500, "several hundred flows: " + random.flows());
            assertTrue(rebalanced.maxSpreadAtCompletion() <= 1, "rebalancing: max - min <= 1 after every completion: " + rebalanced);
            assertEquals(0, least.moves());
            assertTrue(least.maxSpreadAtCompletion() >= 2, "balancing alone drifts when flows end: " + least);
            assertTrue(rebalanced.meanSpread() <= least.meanSpread(), "rebalancing " + rebalanced + " vs " + least);
            assertTrue(least.meanSpread() < random.meanSpread(), "least-flows " + least + " vs random " + random);
            assertTrue(rebalanced.moves() > 0);
        }
        System.out.print("FlowBalanceSimulationTest (seed 2002):\n" + table);
    }
}
