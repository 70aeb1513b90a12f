package lb.control.config;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import lb.dataplane.spread.SpreadPolicy;

/**
 * A route service: lb as the clients' router for one destination prefix, spreading it over
 * next hops on the server-side LAN (no address translation). IPv4 or IPv6: an IPv6 route's next
 * hops are IPv6 addresses (aliases, as IPv6 backends are) on server-network6.
 *
 * @param name       the route's name.
 * @param prefix     the destination prefix.
 * @param nextHops   the next hops' addresses (IPv4, or aliases for an IPv6 prefix), at least one, on the server-side LAN.
 * @param policy     how traffic is spread over them.
 * @param rebalance  seed 002's rebalancing (least-flows only).
 * @param flowletGap the idle gap after which a flowlet may change next hop (flowlet only).
 */
public record RouteConfig(String name, RoutePrefix prefix, List<Integer> nextHops, SpreadPolicy policy, boolean rebalance,
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
     * What a route of one family is checked against: lb's own addresses of that family and the server-side LAN of
     * that family, where its next hops must be.
     *
     * @param clientIp   lb's client-side address (an alias for IPv6), or 0 when lb has none of this family.
     * @param gatewayIp  lb's server-side address, or 0.
     * @param lan        the server-side LAN, or null when not configured.
     * @param lanSetting the setting that gives the LAN: {@code server-network} or {@code server-network6}.
     */
    public record Family(int clientIp, int gatewayIp, RoutePrefix lan, String lanSetting)
    {
        /** @return the family of the prefix, from lb's settings. */
        public static Family of(final RoutePrefix prefix, final int clientIp, final int gatewayIp, final Ipv4Prefix serverNetwork,
            final Ipv6Config ipv6)
        {
            return prefix.isIpv6() ?
                new Family(ipv6.clientIp6(), ipv6.gatewayIp6(), ipv6.serverNetwork6(), "server-network6") :
                new Family(clientIp, gatewayIp, serverNetwork, "server-network");
        }

        /** @return why lb cannot route the family at all (no IPv6 addresses of its own, no LAN), or null. */
        public String missing(final RoutePrefix prefix)
        {
            if (prefix.isIpv6() && (clientIp == 0 || gatewayIp == 0))
            {
                return "an IPv6 route needs client-ip6 and gateway-ip6 (lb's own IPv6 addresses: the clients' router and " +
                    "the next hops' way back)";
            }
            return lan == null ? "needs " + lanSetting + " (the LAN its next hops are on)" : null;
        }
    }

    /**
     * The rules a next hop must follow, for the config file and the control socket alike.
     *
     * @param hop    an IPv4 address or an alias.
     * @param prefix the route's prefix.
     * @param family lb's addresses and LAN of the prefix's family ({@link Family#missing} is null).
     * @return why the address cannot be a next hop, or null when it can.
     */
    public static String nextHopProblem(final int hop, final RoutePrefix prefix, final Family family)
    {
        if (IpAddresses.isIpv6(hop) != prefix.isIpv6())
        {
            return IpAddresses.format(hop) + " is " + (prefix.isIpv6() ? "IPv4" : "IPv6") + " but the route's prefix " + prefix +
                " is " + prefix.family() + ": next hops are of the prefix's family";
        }
        if (!family.lan().holds(hop))
        {
            return IpAddresses.format(hop) + " is outside " + family.lanSetting() + " " + family.lan() +
                ": next hops must be on the server-side LAN";
        }
        return hop == family.gatewayIp() || hop == family.clientIp() ? IpAddresses.format(hop) + " is lb's own address" : null;
    }

    /** @return why the prefix cannot be a route (it holds one of lb's addresses), or null when it can. */
    public static String prefixProblem(final RoutePrefix prefix, final Family family)
    {
        for (final int own : new int[] {family.clientIp(), family.gatewayIp()})
        {
            if (own != 0 && prefix.holds(own))
            {
                return prefix + " holds lb's own address " + IpAddresses.format(own);
            }
        }
        return null;
    }
}
