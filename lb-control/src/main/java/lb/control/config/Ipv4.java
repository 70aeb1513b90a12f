package lb.control.config;

/**
 * IPv4 addresses as the {@code int} the dataplane uses: the address as a big-endian number,
 * so 198.18.0.1 is {@code 0xC6120001}.
 */
public final class Ipv4
{
    private Ipv4()
    {
    }

    /**
     * Parses a dotted quad of exactly four decimal parts 0..255.
     * <p>
     * Shorthand forms that {@code inet_aton} accepts ("10.1", "0x0a.0.0.1", "010.0.0.1") are
     * rejected on purpose: a load balancer address that means something other than what it reads
     * as is a misrouted service.
     *
     * @param text the address, for example {@code 198.18.0.1}.
     * @return the address as a big-endian number.
     * @throws IllegalArgumentException naming the address and what is wrong with it.
     */
    public static int parse(final String text)
    {
        final String[] parts = text.split("\\.", -1);
        if (parts.length != 4)
        {
            throw invalid(text, parts.length + (parts.length == 1 ? " part" : " parts") + ", need 4");
        }

        int address = 0;
        for (final String part : parts)
        {
            address = (address << 8) | parsePart(text, part);
        }
        return address;
    }

    /**
     * Formats an address as a dotted quad.
     *
     * @param address the address as a big-endian number.
     * @return for example {@code 198.18.0.1}.
     */
    public static String format(final int address)
    {
        return lb.dataplane.packet.Ipv4Header.addressToString(address);
    }

    private static int parsePart(final String text, final String part)
    {
        if (part.isEmpty())
        {
            throw invalid(text, "empty part");
        }
        if (part.length() > 3 || !isDecimal(part))
        {
            throw invalid(text, "'" + part + "' is not a number 0..255");
        }
        if (part.length() > 1 && part.charAt(0) == '0')
        {
            throw invalid(text, "'" + part + "' has a leading zero");
        }
        final int value = Integer.parseInt(part);
        if (value > 255)
        {
            throw invalid(text, part + " is not 0..255");
        }
        return value;
    }

    private static boolean isDecimal(final String part)
    {
        for (int i = 0; i < part.length(); i++)
        {
            final char c = part.charAt(i);
            if (c < '0' || c > '9')
            {
                return false;
            }
        }
        return true;
    }

    private static IllegalArgumentException invalid(final String text, final String why)
    {
        return new IllegalArgumentException(
            "expected an IPv4 address a.b.c.d, got '" + text + "' (" + why + ")");
    }
}
