package lb.control.config;

/**
 * An IPv6 network, such as the server-side LAN {@code 2001:2:0:1::/64}.
 *
 * @param network the network address (host bits zero).
 * @param length  the prefix length, 0..128.
 */
public record Ipv6Prefix(Ipv6Address network, int length) implements RoutePrefix
{
    private static final int BITS = 128;

    /** Rejects host bits and lengths outside 0..128. */
    public Ipv6Prefix
    {
        if (length < 0 || length > BITS)
        {
            throw new IllegalArgumentException("prefix length " + length + " is not 0..128");
        }
        final Ipv6Address masked = masked(network, length);
        if (!masked.equals(network))
        {
            throw new IllegalArgumentException(network + "/" + length + " has host bits set (the network is " + masked + "/" +
                length + ")");
        }
    }

    /**
     * @param text for example {@code 2001:2:0:1::/64}.
     * @return the prefix.
     * @throws IllegalArgumentException naming what is wrong.
     */
    public static Ipv6Prefix parse(final String text)
    {
        final int slash = text.indexOf('/');
        if (slash < 0)
        {
            throw new IllegalArgumentException("'" + text + "' has no prefix length, expected NETWORK/LENGTH such as " +
                "2001:2:0:1::/64");
        }
        final Ipv6Address network = Ipv6Address.parse(text.substring(0, slash));
        final String lengthText = text.substring(slash + 1);
        if (!lengthText.matches("[0-9]{1,3}"))
        {
            throw new IllegalArgumentException("prefix length '" + lengthText + "' is not a number 0..128");
        }
        return new Ipv6Prefix(network, Integer.parseInt(lengthText));
    }

    /** @return true when the address is inside this network. */
    public boolean contains(final Ipv6Address address)
    {
        return masked(address, length).equals(network);
    }

    /** @return true when {@code ip} is an alias whose address is inside this network (never for IPv4). */
    public boolean contains(final int ip)
    {
        final Ipv6Address address = IpAddresses.isIpv6(ip) ? IpAddresses.address6(ip) : null;
        return address != null && contains(address);
    }

    @Override
    public boolean isIpv6()
    {
        return true;
    }

    @Override
    public boolean holds(final int address)
    {
        return contains(address);
    }

    /** @return whether the two share an address: the shorter one holds the longer one's network. */
    @Override
    public boolean overlaps(final RoutePrefix other)
    {
        return other instanceof Ipv6Prefix v6 && (length <= v6.length ? contains(v6.network) : v6.contains(network));
    }

    private static Ipv6Address masked(final Ipv6Address address, final int length)
    {
        return new Ipv6Address(address.high() & mask(length), address.low() & mask(length - 64));
    }

    /** The mask of the first {@code bits} bits of a 64-bit half (none when 0 or less, all when 64 or more). */
    private static long mask(final int bits)
    {
        return bits <= 0 ? 0 : bits >= 64 ? -1L : -1L << (64 - bits);
    }

    @Override
    public String toString()
    {
        return network + "/" + length;
    }
}
