package lb.control.config;

/**
 * An IPv4 network, such as the server-side LAN {@code 198.18.1.0/24}.
 *
 * @param network the network address (host bits zero), big-endian.
 * @param length  the prefix length, 0..32.
 */
public record Ipv4Prefix(int network, int length) implements RoutePrefix
{
    /** Rejects host bits and lengths outside 0..32. */
    public Ipv4Prefix
    {
        if (length < 0 || length > 32)
        {
            throw new IllegalArgumentException("prefix length " + length + " is not 0..32");
        }
        if ((network & ~mask(length)) != 0)
        {
            throw new IllegalArgumentException(Ipv4.format(network) + "/" + length + " has host bits set (the network is " +
                Ipv4.format(network & mask(length)) + "/" + length + ")");
        }
    }

    /**
     * @param text for example {@code 198.18.1.0/24}.
     * @return the prefix.
     * @throws IllegalArgumentException naming what is wrong.
     */
    public static Ipv4Prefix parse(final String text)
    {
        final int slash = text.indexOf('/');
        if (slash < 0)
        {
            throw new IllegalArgumentException("'" + text + "' has no prefix length, expected NETWORK/LENGTH such as 198.18.1.0/24");
        }
        final int network = Ipv4.parse(text.substring(0, slash));
        final String lengthText = text.substring(slash + 1);
        if (!lengthText.matches("[0-9]{1,2}"))
        {
            throw new IllegalArgumentException("prefix length '" + lengthText + "' is not a number 0..32");
        }
        return new Ipv4Prefix(network, Integer.parseInt(lengthText));
    }

    /** @return true when the address is inside this network. */
    public boolean contains(final int ip)
    {
        return (ip & mask(length)) == network;
    }

    private static int mask(final int length)
    {
        return length == 0 ? 0 : -1 << (32 - length);
    }

    /** @return whether the two share an address: the shorter one holds the longer one's network. */
    @Override
    public boolean overlaps(final RoutePrefix other)
    {
        return other instanceof Ipv4Prefix v4 && (length <= v4.length ? contains(v4.network) : v4.contains(network));
    }

    @Override
    public boolean isIpv6()
    {
        return false;
    }

    @Override
    public boolean holds(final int address)
    {
        return !IpAddresses.isIpv6(address) && contains(address);
    }

    @Override
    public String toString()
    {
        return Ipv4.format(network) + "/" + length;
    }
}
