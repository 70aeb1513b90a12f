package lb.control.config;

/**
 * An IPv6 address as the two big-endian longs the dataplane reads ({@code Ipv6Header.getAddressHigh/Low}):
 * 2001:2::1 is high {@code 0x2001000200000000}, low {@code 1}.
 * <p>
 * {@link #parse} is lb's own small parser of the RFC 4291 section 2.2 text forms; it never looks a
 * name up (the JDK's {@code InetAddress.getByName} would resolve anything that is not an address),
 * and it refuses zone indexes ({@code %eth0}): lb's addresses are configured, not scoped.
 * {@link #toString} writes the RFC 5952 canonical form.
 *
 * @param high the first 64 bits.
 * @param low  the last 64 bits.
 */
public record Ipv6Address(long high, long low)
{
    private static final int GROUPS = 8;
    private static final int GROUP_BITS = 16;
    /** The longest text form: eight full groups, or six and a dotted quad. */
    private static final int MAX_TEXT = 45;
    /** ::ffff:0:0/96, IPv4-mapped addresses (RFC 4291 section 2.5.5.2), written with a dotted quad (RFC 5952 section 5). */
    private static final long MAPPED_LOW_PREFIX = 0x0000_FFFF_0000_0000L;

    /**
     * Parses hexadecimal groups of 1 to 4 digits separated by ':', at most one "::" standing for
     * one or more zero groups, and optionally a dotted quad as the last 32 bits.
     *
     * @param text for example {@code 2001:2::1} or {@code ::ffff:198.18.0.1}.
     * @return the address.
     * @throws IllegalArgumentException naming the text and what is wrong with it.
     */
    public static Ipv6Address parse(final String text)
    {
        if (text.isEmpty() || text.length() > MAX_TEXT)
        {
            throw invalid(text, text.isEmpty() ? "empty" : "longer than " + MAX_TEXT + " characters");
        }
        if (text.indexOf(':') < 0)
        {
            throw invalid(text, "no ':'");
        }
        if (text.indexOf('%') >= 0)
        {
            throw invalid(text, "a zone index is not allowed");
        }
        final int gap = text.indexOf("::");
        if (gap >= 0 && text.indexOf("::", gap + 1) >= 0)
        {
            throw invalid(text, "more than one '::'");
        }
        final int[] head = new int[GROUPS];
        final int[] tail = new int[GROUPS];
        final int headCount = gap < 0 ? groups(text, text, head, true) : groups(text, text.substring(0, gap), head, false);
        final int tailCount = gap < 0 ? 0 : groups(text, text.substring(gap + 2), tail, true);
        final int count = headCount + tailCount;
        if (gap < 0 && count != GROUPS)
        {
            throw invalid(text, count + (count == 1 ? " group" : " groups") + ", need 8 or a '::'");
        }
        if (gap >= 0 && count >= GROUPS)
        {
            throw invalid(text, count + " groups and a '::', which stands for at least one more");
        }
        long high = 0;
        long low = 0;
        for (int i = 0; i < GROUPS; i++)
        {
            final int group = i < headCount ? head[i] : i >= GROUPS - tailCount ? tail[i - (GROUPS - tailCount)] : 0;
            if (i < GROUPS / 2)
            {
                high = high << GROUP_BITS | group;
            }
            else
            {
                low = low << GROUP_BITS | group;
            }
        }
        return new Ipv6Address(high, low);
    }

    /** The groups of one side of "::" (or of the whole text), a dotted quad allowed last; returns their count. */
    private static int groups(final String text, final String part, final int[] into, final boolean last)
    {
        if (part.isEmpty())
        {
            return 0;
        }
        final String[] words = part.split(":", -1);
        int count = 0;
        for (int i = 0; i < words.length; i++)
        {
            final String word = words[i];
            if (word.isEmpty())
            {
                // Only at an end: two ':' in a row inside one side would have been its "::".
                throw invalid(text, "a single ':' at an end");
            }
            if (word.indexOf('.') >= 0)
            {
                if (!last || i != words.length - 1 || count + 2 > GROUPS)
                {
                    throw invalid(text, "a dotted quad may only be the last 32 bits");
                }
                final int ipv4 = Ipv4.parse(word);
                into[count++] = ipv4 >>> GROUP_BITS;
                into[count++] = ipv4 & 0xFFFF;
                continue;
            }
            if (word.length() > 4 || !isHex(word))
            {
                throw invalid(text, "'" + word + "' is not a group of 1 to 4 hex digits");
            }
            if (count == GROUPS)
            {
                throw invalid(text, "more than 8 groups");
            }
            into[count++] = Integer.parseInt(word, 16);
        }
        return count;
    }

    private static boolean isHex(final String word)
    {
        for (int i = 0; i < word.length(); i++)
        {
            final char c = word.charAt(i);
            if (!(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'))
            {
                return false;
            }
        }
        return true;
    }

    /** @return group {@code i} (0..7) of the address. */
    public int group(final int i)
    {
        final long half = i < GROUPS / 2 ? high : low;
        return (int)(half >>> (48 - GROUP_BITS * (i & 3))) & 0xFFFF;
    }

    /** @return whether this is multicast, ff00::/8. */
    public boolean isMulticast()
    {
        return high >>> 56 == 0xFF;
    }

    /** @return whether this is an IPv4-mapped address, ::ffff:0:0/96. */
    public boolean isIpv4Mapped()
    {
        return high == 0 && (low & 0xFFFF_FFFF_0000_0000L) == MAPPED_LOW_PREFIX;
    }

    /**
     * RFC 5952 section 4: lower case, no leading zeros, the longest run of two or more zero groups
     * (the first of equally long ones) as "::", a lone zero group as "0"; section 5: an IPv4-mapped
     * address ends in its dotted quad.
     */
    @Override
    public String toString()
    {
        final int hexGroups = isIpv4Mapped() ? 6 : GROUPS;
        int bestStart = -1;
        int bestLength = 1;
        for (int i = 0; i < hexGroups; i++)
        {
            int end = i;
            while (end < hexGroups && group(end) == 0)
            {
                end++;
            }
            if (end - i > bestLength)
            {
                bestStart = i;
                bestLength = end - i;
            }
            i = Math.max(i, end);
        }
        final StringBuilder text = new StringBuilder(MAX_TEXT);
        for (int i = 0; i < hexGroups; i++)
        {
            if (i == bestStart)
            {
                text.append("::");
                i += bestLength - 1;
                continue;
            }
            if (text.length() > 0 && text.charAt(text.length() - 1) != ':')
            {
                text.append(':');
            }
            text.append(Integer.toHexString(group(i)));
        }
        if (hexGroups < GROUPS)
        {
            if (text.charAt(text.length() - 1) != ':')
            {
                text.append(':');
            }
            text.append(Ipv4.format((int)low));
        }
        return text.toString();
    }

    private static IllegalArgumentException invalid(final String text, final String why)
    {
        return new IllegalArgumentException("expected an IPv6 address such as 2001:2::1, got '" + text + "' (" + why + ")");
    }
}
