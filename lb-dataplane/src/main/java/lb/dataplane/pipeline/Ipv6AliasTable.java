package lb.dataplane.pipeline;

import org.agrona.collections.Int2IntHashMap;

/**
 * The IPv6 addresses lb is configured with (VIPs, backends, its own client-side and gateway
 * addresses), each named by a 32-bit alias so that services, backend pools, schedulers, health
 * results and control commands keep one code path for both families.
 * <p>
 * An alias is a value in {@code 0.0.0.0/8} other than 0 ("this network", RFC 1122: never a source
 * or destination on the wire, and the IPv4 classifier drops frames that carry one), so an int
 * address is unambiguous: {@link #isAlias(int)} tells the families apart. The alias of an address
 * is its {@link #preferredAlias(long, long) preferred alias}, a hash of the 128 bits, unless
 * another address of the same configuration took it first (the control side then probes on, see
 * {@code lb.control.config.IpAddresses}): instances configured alike therefore name an address
 * alike, which keeps Maglev tables (keyed by backend address and port) equal across instances.
 * <p>
 * One table per worker, written only by the worker's command applier ({@code ADD_ADDRESS6}) and
 * read by its packet path: no locks. Lookups in both directions are allocation-free; frames and
 * flow keys carry the full 128 bits, only configuration is aliased.
 */
public final class Ipv6AliasTable
{
    /** Not an alias: returned by {@link #alias(long, long)} for an address lb was not configured with. */
    public static final int NONE = 0;

    /** Most aliases one table holds. */
    public static final int MAX_ALIASES = 4096;

    /** Aliases are 1..this value (0.0.0.1 .. 0.255.255.255). */
    public static final int MAX_ALIAS = 0x00FF_FFFF;

    private static final int ADDRESS_SLOTS = 2 * MAX_ALIASES;
    private static final int ADDRESS_MASK = ADDRESS_SLOTS - 1;

    private final long[] high = new long[MAX_ALIASES];
    private final long[] low = new long[MAX_ALIASES];
    private final int[] aliasAt = new int[MAX_ALIASES];
    private final Int2IntHashMap indexByAlias = new Int2IntHashMap(MAX_ALIASES * 2, 0.65f, -1);
    /** Open addressing over the addresses: entry index + 1, or 0 for empty. */
    private final int[] indexByAddress = new int[ADDRESS_SLOTS];
    private int count;

    /** @return true if {@code ip} is an IPv6 alias rather than an IPv4 address. */
    public static boolean isAlias(final int ip)
    {
        return ip != NONE && (ip >>> 24) == 0;
    }

    /**
     * The alias an address gets when no other address of the configuration has taken it: murmur3's
     * fmix64 over the address folded to 64 bits, onto 1..{@link #MAX_ALIAS}.
     */
    public static int preferredAlias(final long high, final long low)
    {
        long h = high * 0x9E37_79B9_7F4A_7C15L ^ low;
        h ^= h >>> 33;
        h *= 0xFF51_AFD7_ED55_8CCDL;
        h ^= h >>> 33;
        h *= 0xC4CE_B9FE_1A85_EC53L;
        h ^= h >>> 33;
        return 1 + (int)((h >>> 1) % MAX_ALIAS);
    }

    /**
     * Names {@code high:low} by {@code alias}. Adding a pair again is a no-op.
     *
     * @return false if the alias is not an alias, either side is already bound to something else, or the table is
     * full.
     */
    public boolean put(final int alias, final long high, final long low)
    {
        if (!isAlias(alias))
        {
            return false;
        }
        final int existing = indexByAlias.get(alias);
        final int byAddress = alias(high, low);
        if (existing >= 0 || byAddress != NONE)
        {
            return existing >= 0 && byAddress == alias;
        }
        if (count == MAX_ALIASES)
        {
            return false;
        }

        final int index = count++;
        this.high[index] = high;
        this.low[index] = low;
        aliasAt[index] = alias;
        indexByAlias.put(alias, index);
        int slot = addressSlot(high, low);
        while (indexByAddress[slot] != 0)
        {
            slot = (slot + 1) & ADDRESS_MASK;
        }
        indexByAddress[slot] = index + 1;
        return true;
    }

    /** @return the alias of an address, or {@link #NONE} if lb was not configured with it. */
    public int alias(final long high, final long low)
    {
        int slot = addressSlot(high, low);
        int entry;
        while ((entry = indexByAddress[slot]) != 0)
        {
            final int index = entry - 1;
            if (this.high[index] == high && this.low[index] == low)
            {
                return aliasAt[index];
            }
            slot = (slot + 1) & ADDRESS_MASK;
        }
        return NONE;
    }

    /** @return true if the table names {@code alias}. */
    public boolean contains(final int alias)
    {
        return indexByAlias.get(alias) >= 0;
    }

    /** @return the high 64 bits of an alias's address, 0 if unknown. */
    public long high(final int alias)
    {
        return highAt(indexOf(alias));
    }

    /** @return the low 64 bits of an alias's address, 0 if unknown. */
    public long low(final int alias)
    {
        return lowAt(indexOf(alias));
    }

    /**
     * Where an alias's address is kept, for {@link #highAt} and {@link #lowAt}: the packet path looks an alias up once
     * for both halves.
     *
     * @return the entry index, or -1 if the alias is unknown.
     */
    public int indexOf(final int alias)
    {
        return indexByAlias.get(alias);
    }

    /** @return the high 64 bits of the address at an {@link #indexOf} index, 0 for -1. */
    public long highAt(final int index)
    {
        return index < 0 ? 0 : high[index];
    }

    /** @return the low 64 bits of the address at an {@link #indexOf} index, 0 for -1. */
    public long lowAt(final int index)
    {
        return index < 0 ? 0 : low[index];
    }

    /** @return the number of aliases. */
    public int size()
    {
        return count;
    }

    private static int addressSlot(final long high, final long low)
    {
        return preferredAlias(high, low) & ADDRESS_MASK;
    }
}
