package lb.dataplane.spread;

/** How a route spreads its traffic over its next hops, by the names users give them. */
public enum SpreadPolicy
{
    /** Strict round robin per packet (seed 003's {@code statistic --mode nth}): reorders when paths differ. */
    PACKET("packet"),
    /** Each new flow pinned to a next hop chosen at random (seed 003's CONNMARK random). */
    FLOW_RANDOM("flow-random"),
    /**
     * L4 hash of the 5-tuple, as Linux ECMP, through a resilient bucket table: removing one of N
     * next hops moves only that hop's flows.
     */
    FLOW_HASH("flow-hash"),
    /** Each new flow takes the next hop with the fewest active flows (seed 002's balancing). */
    LEAST_FLOWS("least-flows"),
    /**
     * LetFlow-style flowlets: a flow keeps its next hop while its packets come close together and
     * may take another (at random) after an idle gap longer than the paths' delay difference, so
     * it spreads without reordering.
     */
    FLOWLET("flowlet");

    private final String configName;

    SpreadPolicy(final String configName)
    {
        this.configName = configName;
    }

    /** @return the name in config files and lbctl. */
    public String configName()
    {
        return configName;
    }
}
