package lb.control.config;

/**
 * lb's own IPv6 settings. IPv6 VIPs and backends are written in the services like IPv4 ones; these
 * are what lb needs to serve them.
 *
 * @param clientIp6      lb's own IPv6 address on the client side (answers neighbour solicitations
 *                       and ping), as its alias ({@link IpAddresses}), or 0: none.
 * @param gatewayIp6     lb's IPv6 address on the server side: the backends' default route and the
 *                       source of the neighbour solicitations that probe them; its alias, or 0: none.
 * @param serverNetwork6 the server-side IPv6 LAN (IPv6 backends must be on it), or null when not
 *                       given; required by IPv6 DSR services.
 * @param flowTableSize6 entries of the IPv6 flow table (a NAT flow takes two, forward and return;
 *                       a one-way flow one), split over the workers like flow-capacity.
 */
public record Ipv6Config(int clientIp6, int gatewayIp6, Ipv6Prefix serverNetwork6, int flowTableSize6)
{
    /** No IPv6 address of lb's own: IPv6 services are refused. */
    public static final Ipv6Config NONE =
        new Ipv6Config(0, 0, null, Values.flowTableSize6(ConfigDefaults.FLOW_TABLE_SIZE6));

    /** @return whether lb has the addresses IPv6 services need. */
    public boolean enabled()
    {
        return gatewayIp6 != 0;
    }

    /**
     * @param vip a service's VIP (an IPv4 address or an alias).
     * @return why lb cannot serve it, or null: an IPv6 service needs client-ip6 and gateway-ip6 (in
     *         mode ipip gateway-ip6 is also the outer source of the IPv6-in-IPv6 tunnel and client-ip6
     *         the source of packet too big; TCP checks of its backends go from gateway-ip6).
     */
    public String refusal(final int vip)
    {
        if (!IpAddresses.isIpv6(vip))
        {
            return null;
        }
        if (gatewayIp6 == 0 || clientIp6 == 0)
        {
            return "IPv6 VIP " + IpAddresses.format(vip) + " needs " +
                (gatewayIp6 == 0 && clientIp6 == 0 ? "client-ip6 and gateway-ip6" : gatewayIp6 == 0 ? "gateway-ip6" : "client-ip6") +
                " (lb's own IPv6 addresses)";
        }
        return null;
    }

    /**
     * @param service the service's name.
     * @param vip     its VIP.
     * @param backend a backend's address.
     * @return why the backend cannot serve it, or null: lb does not translate between IPv4 and IPv6.
     */
    public static String familyProblem(final String service, final int vip, final int backend)
    {
        final boolean ipv6 = IpAddresses.isIpv6(backend);
        return ipv6 == IpAddresses.isIpv6(vip) ? null : IpAddresses.format(backend) + " is " + (ipv6 ? "IPv6" : "IPv4") +
            " but service '" + service + "' has an " + (ipv6 ? "IPv4" : "IPv6") + " VIP: a service's backends are of its VIP's family";
    }
}
