package lb.control.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import lb.dataplane.spread.SpreadPolicy;

/**
 * A route service: lb as the clients' router for one destination prefix, spreading it over
 * next hops on the server-side LAN (no address translation).
 *
 * @param name       the route's name.
 * @param prefix     the destination prefix.
 * @param nextHops   the next hops' addresses, at least one, on the server-side LAN.
 * @param policy     how traffic is spread over them.
 * @param rebalance  seed 002's rebalancing (least-flows only).
 * @param flowletGap the idle gap after which a flowlet may change next hop (flowlet only).
 */
public record RouteConfig(String name, Ipv4Prefix prefix, List<Integer> nextHops, SpreadPolicy policy, boolean rebalance,
    Duration flowletGap)
{
    /** Copies the list; rejects nulls. */
    public RouteConfig
    {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(prefix, "prefix");
        nextHops = List.copyOf(nextHops);
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(flowletGap, "flowletGap");
    }

    /**
     * The rules a next hop must follow, for the config file and the control socket alike.
     *
     * @param lan the server-side LAN.
     * @return why the address cannot be a next hop, or null when it can.
     */
    public static String nextHopProblem(final int hop, final Ipv4Prefix lan, final int clientIp, final int gatewayIp)
    {
        if (!lan.contains(hop))
        {
            return Ipv4.format(hop) + " is outside server-network " + lan + ": next hops must be on the server-side LAN";
        }
        return hop == gatewayIp || hop == clientIp ? Ipv4.format(hop) + " is lb's own address" : null;
    }

    /** @return why the prefix cannot be a route (it holds one of lb's addresses), or null when it can. */
    public static String prefixProblem(final Ipv4Prefix prefix, final int clientIp, final int gatewayIp)
    {
        for (final int own : new int[] {clientIp, gatewayIp})
        {
            if (prefix.contains(own))
            {
                return prefix + " holds lb's own address " + Ipv4.format(own);
            }
        }
        return null;
    }
}
