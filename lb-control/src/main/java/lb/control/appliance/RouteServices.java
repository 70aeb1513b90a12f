package lb.control.appliance;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import lb.control.config.FlowTimeouts;
import lb.control.config.IpAddresses;
import lb.control.config.Ipv4Prefix;
import lb.control.config.Ipv6Config;
import lb.control.config.Ipv6Prefix;
import lb.control.config.RouteConfig;
import lb.control.config.RoutePrefix;
import lb.control.socket.CommandException;
import lb.control.socket.RuntimeApi.NextHopStats;
import lb.control.socket.RuntimeApi.RouteStats;
import lb.dataplane.spread.NextHopGroup;
import lb.dataplane.spread.RouteForwarder;
import lb.dataplane.spread.RouteSlots;
import lb.dataplane.spread.SpreadPolicy;
import lb.dataplane.worker.Commands;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

/**
 * The control side of the route services: what each is (name, prefix, policy, next hops in the
 * order the workers' groups index them), the per-worker forwarders it built, and the changes the
 * control socket makes at runtime. A new route is built here, one forwarder per worker (its flow
 * table is 8 MiB, an IPv6 route's 22 MiB: no worker allocates it), offered in a free slot of each worker's
 * {@link RouteSlots} and installed by the workers on an ADD_ROUTE command. A removed next hop keeps
 * its index in the group (retired) so the counters of the others stay where they are; adding the
 * address again revives it. Methods are synchronized: the control socket may serve several
 * connections, and the stats are read from its threads too.
 */
final class RouteServices
{
    /** Flows one route tracks per worker (two 64-byte entries each: 8 MiB; IPv6, two 128-byte entries: 22 MiB). */
    static final int FLOW_CAPACITY = 65536;

    /** Writes a command to every worker's ring and waits until each has applied it. */
    interface Sender
    {
        void send(int type, DirectBuffer message, int length);
    }

    /** One route: its settings, its forwarder in each worker, and which of its hops were removed. */
    private static final class Entry
    {
        final int slot;
        final RouteConfig config;
        final RouteForwarder[] perWorker;
        /** Next-hop addresses by group index, removed ones included. */
        final List<Integer> hops;
        final boolean[] retired = new boolean[NextHopGroup.MAX_HOPS];

        Entry(final int slot, final RouteConfig config, final RouteForwarder[] perWorker)
        {
            this.slot = slot;
            this.config = config;
            this.perWorker = perWorker;
            this.hops = new ArrayList<>(config.nextHops());
        }

        List<Integer> liveHops()
        {
            final List<Integer> live = new ArrayList<>();
            for (int hop = 0; hop < hops.size(); hop++)
            {
                if (!retired[hop])
                {
                    live.add(hops.get(hop));
                }
            }
            return live;
        }
    }

    private final List<DataplaneWorker> workers;
    private final FlowTimeouts timeouts;
    private final int clientIp;
    private final int gatewayIp;
    private final Ipv4Prefix serverNetwork;
    private final Ipv6Config ipv6;
    private final List<Entry> entries = new ArrayList<>();
    private final UnsafeBuffer message = new UnsafeBuffer(new byte[Commands.ROUTE_LENGTH]);
    private Sender sender;

    RouteServices(final List<DataplaneWorker> workers, final FlowTimeouts timeouts, final int clientIp, final int gatewayIp,
        final Ipv4Prefix serverNetwork, final Ipv6Config ipv6)
    {
        this.ipv6 = ipv6;
        this.workers = List.copyOf(workers);
        this.timeouts = timeouts;
        this.clientIp = clientIp;
        this.gatewayIp = gatewayIp;
        this.serverNetwork = serverNetwork;
    }

    /** The configured routes, installed in the workers' slots before they start. */
    synchronized void installInitial(final List<RouteConfig> routes)
    {
        for (final RouteConfig rc : routes)
        {
            final Entry entry = build(entries.size(), rc);
            for (final DataplaneWorker w : workers)
            {
                w.routes.offer(entry.slot, entry.perWorker[w.index]);
                w.routes.install(entry.slot);
            }
            entries.add(entry);
        }
    }

    /** How changes reach the workers (set once the command rings exist). */
    synchronized void sender(final Sender value)
    {
        this.sender = value;
    }

    /** @return every next hop of every route: probed like the backends (ARP, or NDP for an IPv6 one). */
    synchronized Set<Integer> nextHops()
    {
        final Set<Integer> ips = new LinkedHashSet<>();
        for (final Entry e : entries)
        {
            ips.addAll(e.liveHops());
        }
        return ips;
    }

    /** @return the name of the route whose prefix holds the address (IPv4, or an IPv6 alias), or null. */
    synchronized String holding(final int ip)
    {
        for (final Entry e : entries)
        {
            if (e.config.prefix().holds(ip))
            {
                return e.config.name();
            }
        }
        return null;
    }

    /** @return per route and next hop, live and summed over the workers. */
    synchronized List<RouteStats> stats()
    {
        final List<RouteStats> out = new ArrayList<>();
        for (final Entry e : entries)
        {
            long flows = 0;
            long moves = 0;
            long switches = 0;
            for (final RouteForwarder route : e.perWorker)
            {
                flows += route.flowsCreated();
                moves += route.paths().moves();
                switches += route.paths().flowletSwitches();
            }
            final List<NextHopStats> hops = new ArrayList<>();
            for (int hop = 0; hop < e.hops.size(); hop++)
            {
                if (e.retired[hop])
                {
                    continue;
                }
                boolean up = true;
                long active = 0;
                long packets = 0;
                long bytes = 0;
                for (final RouteForwarder route : e.perWorker)
                {
                    final NextHopGroup g = route.group();
                    up &= g.publishedUsable(hop);
                    active += g.publishedActiveFlows(hop);
                    packets += g.packets(hop);
                    bytes += g.bytes(hop);
                }
                hops.add(new NextHopStats(e.hops.get(hop), up, active, packets, bytes));
            }
            final RouteConfig c = e.config;
            out.add(new RouteStats(c.name(), c.prefix().toString(), c.policy().configName(), c.rebalance(), flows, moves,
                switches, hops));
        }
        return out;
    }

    /**
     * Adds a route at runtime, checked as the config file's routes are.
     *
     * @param vips every VIP now served: a route must not hold one.
     */
    synchronized void add(final RouteConfig rc, final Collection<Integer> vips)
    {
        check(rc, vips);
        final int slot = freeSlot();
        final Entry entry = build(slot, rc);
        for (final DataplaneWorker w : workers)
        {
            w.routes.offer(slot, entry.perWorker[w.index]);
        }
        try
        {
            send(Commands.ADD_ROUTE, slot, 0);
        }
        finally
        {
            for (final DataplaneWorker w : workers)
            {
                w.routes.offer(slot, null); // taken by now, or never to be
            }
        }
        entries.add(entry);
    }

    /** Removes a route; its flows end (their packets no longer match any route). */
    synchronized void delete(final String name)
    {
        final Entry e = entry(name);
        send(Commands.DEL_ROUTE, e.slot, 0);
        entries.remove(e);
    }

    /** Adds a next hop to a route; it takes traffic once its probe answers (at once if its MAC is known). */
    synchronized void addNextHop(final String name, final int ip)
    {
        final Entry e = entry(name);
        final int index = e.hops.indexOf(ip);
        if (index >= 0 && !e.retired[index])
        {
            throw new CommandException(IpAddresses.format(ip) + " is already a next hop of route '" + name + "'");
        }
        if (index < 0 && e.hops.size() == NextHopGroup.MAX_HOPS)
        {
            throw new CommandException("route '" + name + "' has used all " + NextHopGroup.MAX_HOPS +
                " next-hop slots; delete and add the route to start afresh");
        }
        checkNextHop(e.config.prefix(), ip);
        send(Commands.ADD_NEXT_HOP, e.slot, ip);
        if (index >= 0)
        {
            e.retired[index] = false;
        }
        else
        {
            e.hops.add(ip);
        }
    }

    /** Removes a next hop from a route; its flows move to the others as if it had died. */
    synchronized void delNextHop(final String name, final int ip)
    {
        final Entry e = entry(name);
        final int index = e.hops.indexOf(ip);
        if (index < 0 || e.retired[index])
        {
            throw new CommandException("route '" + name + "' has no next hop " + IpAddresses.format(ip));
        }
        if (e.liveHops().size() == 1)
        {
            throw new CommandException(IpAddresses.format(ip) + " is the last next hop of route '" + name +
                "'; delete the route instead");
        }
        send(Commands.DEL_NEXT_HOP, e.slot, ip);
        e.retired[index] = true;
    }

    private void check(final RouteConfig rc, final Collection<Integer> vips)
    {
        for (final Entry e : entries)
        {
            if (e.config.name().equals(rc.name()))
            {
                throw new CommandException("route '" + rc.name() + "' exists already");
            }
            if (e.config.prefix().overlaps(rc.prefix()))
            {
                throw new CommandException(rc.prefix() + " overlaps route '" + e.config.name() + "' " + e.config.prefix());
            }
        }
        for (final int vip : vips)
        {
            if (rc.prefix().holds(vip))
            {
                throw new CommandException(rc.prefix() + " holds VIP " + IpAddresses.format(vip) + ": a VIP cannot be routed through");
            }
        }
        final String ownAddress = RouteConfig.prefixProblem(rc.prefix(), family(rc.prefix()));
        if (ownAddress != null)
        {
            throw new CommandException(ownAddress);
        }
        if (rc.nextHops().isEmpty() || rc.nextHops().size() > NextHopGroup.MAX_HOPS)
        {
            throw new CommandException("a route takes 1 to " + NextHopGroup.MAX_HOPS + " next hops, got " +
                rc.nextHops().size());
        }
        if (new LinkedHashSet<>(rc.nextHops()).size() != rc.nextHops().size())
        {
            throw new CommandException("a next hop is listed twice");
        }
        for (final int hop : rc.nextHops())
        {
            checkNextHop(rc.prefix(), hop);
        }
        if (rc.rebalance() && rc.policy() != SpreadPolicy.LEAST_FLOWS)
        {
            throw new CommandException("rebalance needs policy least-flows, not " + rc.policy().configName());
        }
    }

    private RouteConfig.Family family(final RoutePrefix prefix)
    {
        return RouteConfig.Family.of(prefix, clientIp, gatewayIp, serverNetwork, ipv6);
    }

    private void checkNextHop(final RoutePrefix prefix, final int hop)
    {
        final RouteConfig.Family family = family(prefix);
        final String missing = family.missing(prefix);
        if (missing != null)
        {
            throw new CommandException("route " + prefix + " " + missing);
        }
        final String problem = RouteConfig.nextHopProblem(hop, prefix, family);
        if (problem != null)
        {
            throw new CommandException("next hop " + problem);
        }
    }

    /** One forwarder per worker, its flow table timed like the NAT flows, its picks seeded per worker and slot. */
    private Entry build(final int slot, final RouteConfig rc)
    {
        final RouteForwarder[] perWorker = new RouteForwarder[workers.size()];
        for (final DataplaneWorker w : workers)
        {
            final long seed = 0x9E3779B9L * (w.index + 1) + slot;
            final RouteForwarder route = rc.prefix() instanceof Ipv6Prefix v6 ?
                RouteForwarder.ipv6(v6.network().high(), v6.network().low(), v6.length(), rc.policy(), rc.flowletGap().toNanos(),
                    rc.rebalance(), FLOW_CAPACITY, seed) :
                new RouteForwarder(((Ipv4Prefix)rc.prefix()).network(), rc.prefix().length(), rc.policy(),
                    rc.flowletGap().toNanos(), rc.rebalance(), FLOW_CAPACITY, seed);
            for (final int hop : rc.nextHops())
            {
                route.group().add(hop);
            }
            route.flows().setTimeouts(timeouts.tcpSyn().toNanos(), timeouts.tcpEstablished().toNanos(),
                timeouts.tcpClosing().toNanos(), timeouts.udp().toNanos());
            perWorker[w.index] = route;
        }
        return new Entry(slot, rc, perWorker);
    }

    private int freeSlot()
    {
        for (int slot = 0; slot < RouteSlots.MAX_ROUTES; slot++)
        {
            boolean used = false;
            for (final Entry e : entries)
            {
                used |= e.slot == slot;
            }
            if (!used)
            {
                return slot;
            }
        }
        throw new CommandException("at most " + RouteSlots.MAX_ROUTES + " routes");
    }

    private Entry entry(final String name)
    {
        for (final Entry e : entries)
        {
            if (e.config.name().equals(name))
            {
                return e;
            }
        }
        throw new CommandException("no route '" + name + "'");
    }

    private void send(final int type, final int slot, final int nextHop)
    {
        if (sender == null)
        {
            throw new CommandException("lb is not running yet");
        }
        sender.send(type, message, Commands.encodeRoute(message, 0, slot, nextHop));
    }
}
