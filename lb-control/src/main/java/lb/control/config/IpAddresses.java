package lb.control.config;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import lb.dataplane.pipeline.Ipv6AliasTable;

/**
 * Addresses of services, backends and lb itself as the one {@code int} the control side and the
 * dataplane pass around: an IPv4 address as its big-endian number, an IPv6 address as its 32-bit
 * alias in 0.0.0.0/8 (see {@link Ipv6AliasTable}), so services, pools, health results and commands
 * keep one code path for both families; only frames and flow keys carry the 128 bits.
 * <p>
 * This is the process-wide, append-only intern of those aliases: {@link #parse} names an IPv6
 * address by its {@link Ipv6AliasTable#preferredAlias preferred alias}, or, when another address
 * took that first, by the next free one after it. Instances configured alike (same addresses, same
 * order) therefore name addresses alike. An alias is never taken back, so a format of an int ever
 * handed out is always right. Thread-safe: the control socket's thread and the control thread both
 * parse and format.
 * <p>
 * IPv4 text in 0.0.0.0/8 is refused here: "this network" (RFC 1122) is never a host, and there the
 * aliases live.
 */
public final class IpAddresses
{
    private static final Map<Ipv6Address, Integer> ALIAS_BY_ADDRESS = new ConcurrentHashMap<>();
    private static final Map<Integer, Ipv6Address> ADDRESS_BY_ALIAS = new ConcurrentHashMap<>();
    /** Aliases in the order they were handed out; guarded by the class lock, as is interning. */
    private static final Map<Integer, Ipv6Address> IN_ORDER = new LinkedHashMap<>();

    private IpAddresses()
    {
    }

    /**
     * @param text an IPv4 address a.b.c.d, or an IPv6 address (anything with a ':').
     * @return the IPv4 address, or the IPv6 address's alias.
     * @throws IllegalArgumentException naming the text and what is wrong with it.
     */
    public static int parse(final String text)
    {
        return text.indexOf(':') >= 0 ? parseIpv6(text) : parseIpv4(text);
    }

    /**
     * @param text an IPv4 address a.b.c.d outside 0.0.0.0/8.
     * @return the address as a big-endian number.
     */
    public static int parseIpv4(final String text)
    {
        if (text.indexOf(':') >= 0)
        {
            throw new IllegalArgumentException("expected an IPv4 address a.b.c.d, got '" + text + "' (IPv6 is not taken here)");
        }
        final int ip = Ipv4.parse(text);
        if (Ipv6AliasTable.isAlias(ip) || ip == 0)
        {
            throw new IllegalArgumentException("expected an IPv4 address a.b.c.d, got '" + text +
                "' (0.0.0.0/8 is 'this network', never a host)");
        }
        return ip;
    }

    /**
     * @param text an IPv6 host address: not unspecified, loopback, multicast or IPv4-mapped.
     * @return its alias, taken now when the address is new.
     */
    public static int parseIpv6(final String text)
    {
        final Ipv6Address address = Ipv6Address.parse(text);
        final String problem = address.high() == 0 && address.low() == 0 ? "the unspecified address" :
            address.high() == 0 && address.low() == 1 ? "the loopback address" :
            address.isMulticast() ? "a multicast address" :
            address.isIpv4Mapped() ? "IPv4-mapped: write the IPv4 address as a.b.c.d" : null;
        if (problem != null)
        {
            throw new IllegalArgumentException("expected an IPv6 host address, got '" + text + "' (" + problem + ")");
        }
        return intern(address);
    }

    /**
     * @param address an IPv6 address.
     * @return its alias, taken now when the address is new.
     */
    public static int intern(final Ipv6Address address)
    {
        final Integer known = ALIAS_BY_ADDRESS.get(address);
        return known != null ? known : internNew(address);
    }

    private static synchronized int internNew(final Ipv6Address address)
    {
        final Integer known = ALIAS_BY_ADDRESS.get(address);
        if (known != null)
        {
            return known;
        }
        if (IN_ORDER.size() == Ipv6AliasTable.MAX_ALIASES)
        {
            throw new IllegalArgumentException("cannot add " + address + ": lb holds at most " + Ipv6AliasTable.MAX_ALIASES +
                " IPv6 addresses");
        }
        int alias = Ipv6AliasTable.preferredAlias(address.high(), address.low());
        while (ADDRESS_BY_ALIAS.containsKey(alias))
        {
            alias = alias == Ipv6AliasTable.MAX_ALIAS ? 1 : alias + 1;
        }
        ADDRESS_BY_ALIAS.put(alias, address);
        IN_ORDER.put(alias, address);
        ALIAS_BY_ADDRESS.put(address, alias);
        return alias;
    }

    /**
     * @param high an IPv6 address's first 64 bits.
     * @param low  its last 64 bits.
     * @return its alias, or {@link Ipv6AliasTable#NONE} when lb was never configured with it.
     */
    public static int alias(final long high, final long low)
    {
        final Integer alias = ALIAS_BY_ADDRESS.get(new Ipv6Address(high, low));
        return alias == null ? Ipv6AliasTable.NONE : alias;
    }

    /** @return whether {@code ip} names an IPv6 address (an alias) rather than an IPv4 one. */
    public static boolean isIpv6(final int ip)
    {
        return Ipv6AliasTable.isAlias(ip);
    }

    /** @return the IPv6 address of an alias, or null when it names none. */
    public static Ipv6Address address6(final int alias)
    {
        return ADDRESS_BY_ALIAS.get(alias);
    }

    /** @return the first 64 bits of an alias's address, 0 when it names none. */
    public static long high(final int alias)
    {
        final Ipv6Address address = ADDRESS_BY_ALIAS.get(alias);
        return address == null ? 0 : address.high();
    }

    /** @return the last 64 bits of an alias's address, 0 when it names none. */
    public static long low(final int alias)
    {
        final Ipv6Address address = ADDRESS_BY_ALIAS.get(alias);
        return address == null ? 0 : address.low();
    }

    /** @return every alias handed out so far and its address, in the order they were handed out (a copy). */
    public static synchronized Map<Integer, Ipv6Address> all6()
    {
        return new LinkedHashMap<>(IN_ORDER);
    }

    /** @return how many aliases were handed out so far. */
    public static synchronized int count6()
    {
        return IN_ORDER.size();
    }

    /**
     * @param ip an IPv4 address or an alias.
     * @return a.b.c.d, or the IPv6 address in RFC 5952 form.
     */
    public static String format(final int ip)
    {
        final Ipv6Address address = isIpv6(ip) ? ADDRESS_BY_ALIAS.get(ip) : null;
        return address != null ? address.toString() : Ipv4.format(ip);
    }

    /**
     * @param ip   an IPv4 address or an alias.
     * @param port a port.
     * @return a.b.c.d:port, or [IPv6]:port (RFC 5952 section 6).
     */
    public static String endpoint(final int ip, final int port)
    {
        return (isIpv6(ip) ? "[" + format(ip) + "]" : format(ip)) + ":" + port;
    }
}
