package lb.control.config;

/**
 * The destination prefix of a route service, of either family: {@link Ipv4Prefix} or {@link Ipv6Prefix}. lb names
 * IPv4 addresses by themselves and IPv6 ones by aliases ({@link IpAddresses}), so {@link #holds} takes either and
 * answers for the prefix's own family only (an IPv4 0.0.0.0/0 holds no alias, though aliases live in 0.0.0.0/8).
 */
public sealed interface RoutePrefix permits Ipv4Prefix, Ipv6Prefix
{
    /**
     * @param text an IPv4 prefix such as {@code 198.19.0.0/16} or an IPv6 one such as {@code 2001:2:0:3::/64}.
     * @return the prefix.
     * @throws IllegalArgumentException naming what is wrong.
     */
    static RoutePrefix parse(final String text)
    {
        return text.indexOf(':') >= 0 ? Ipv6Prefix.parse(text) : Ipv4Prefix.parse(text);
    }

    /** @return whether it is an IPv6 prefix. */
    boolean isIpv6();

    /** @return the prefix length. */
    int length();

    /** @return whether the address (an IPv4 address or an IPv6 alias) is of this family and inside the prefix. */
    boolean holds(int address);

    /** @return whether the two are of one family and share an address. */
    boolean overlaps(RoutePrefix other);

    /** @return {@code IPv6} or {@code IPv4}. */
    default String family()
    {
        return isIpv6() ? "IPv6" : "IPv4";
    }
}
