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
}
