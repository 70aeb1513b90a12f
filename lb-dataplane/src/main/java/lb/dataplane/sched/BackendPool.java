package lb.dataplane.sched;

import java.util.Arrays;

/**
 * The backends of one service: a fixed number of slots of parallel primitive arrays, owned by one
 * dataplane worker.
 * <p>
 * <b>Threading:</b> single writer, no locks. Only the worker that owns the pool reads or writes it.
 * <p>
 * <b>Allocation:</b> all arrays are sized to {@link #capacity()} at construction; nothing allocates
 * afterwards. A full pool refuses further backends ({@link #add} returns {@link #NO_HANDLE}).
 * <p>
 * <b>Handles:</b> a backend is named by an int handle: the slot index in the low
 * {@link #SLOT_BITS} bits and a per-slot generation (1..{@link #MAX_GENERATION}) above it. Removing
 * a backend advances its slot's generation, so a flow still holding the old handle sees
 * {@link #isLive(int)} return false even after the slot is reused. A live handle is always
 * positive, so {@code 0} and {@link #NO_HANDLE} never name a backend. The generation wraps after
 * {@value #MAX_GENERATION} reuses of one slot; a flow would have to outlive that many remove/add
 * cycles of the same slot to be confused.
 * <p>
 * <b>Eligibility:</b> the pool keeps the list of handles that {@link #canTakeNewFlows(int) can take
 * new flows}, in slot order, rebuilt on every change (changes are rare), so a scheduler's pick walks
 * only an int array. {@link #version()} advances on every change that can affect scheduling
 * (membership, weight, health, admin state, MAC); schedulers compare it to rebuild their own state.
 * Active-flow counters change on the fast path and do not advance the version.
 * <p>
 * Getters such as {@link #ip(int)} take a handle that the caller knows to be live (it has just
 * picked it, or checked {@link #isLive(int)} or {@link #canCarryFlows(int)}); like a flyweight they
 * do not check it. Mutators check and return false for a stale handle.
 */
public final class BackendPool
{
    /** Returned by {@link #add} and {@link #find} when there is no such backend. */
    public static final int NO_HANDLE = -1;

    /** Number of low handle bits holding the slot index. */
    public static final int SLOT_BITS = 16;

    /** Largest number of slots a pool can have. */
    public static final int MAX_CAPACITY = 1 << SLOT_BITS;

    /** Capacity used when none is given. */
    public static final int DEFAULT_CAPACITY = 256;

    /** Largest backend weight; keeps weight products and sums well inside a long. */
    public static final int MAX_WEIGHT = 65_535;

    /** Largest generation; generations run 1..MAX_GENERATION so a handle stays positive. */
    public static final int MAX_GENERATION = (1 << (31 - SLOT_BITS)) - 1;

    private static final int SLOT_MASK = MAX_CAPACITY - 1;
    private static final long MAC_MASK = 0xFFFF_FFFF_FFFFL;

    private final int capacity;
    private final int[] handleBySlot;       // live handle, or 0 when the slot is free
    private final int[] generationBySlot;   // generation the next backend in this slot gets
    private final int[] ipBySlot;
    private final int[] portBySlot;
    private final int[] weightBySlot;
    private final long[] macBySlot;
    private final boolean[] healthyBySlot;
    private final boolean[] checkPassingBySlot;
    private final AdminState[] adminStateBySlot;
    private final int[] activeFlowsBySlot;
    private final long[] newFlowsTotalBySlot;
    private final int[] eligibleHandles;

    private int size;
    private int eligibleCount;
    private long version;

    /**
     * A pool with {@link #DEFAULT_CAPACITY} slots.
     */
    public BackendPool()
    {
        this(DEFAULT_CAPACITY);
    }

    /**
     * A pool with a fixed number of slots.
     *
     * @param capacity the most backends the pool holds, 1..{@link #MAX_CAPACITY}.
     */
    public BackendPool(final int capacity)
    {
        if (capacity < 1 || capacity > MAX_CAPACITY)
        {
            throw new IllegalArgumentException("capacity must be 1.." + MAX_CAPACITY + ": " + capacity);
        }

        this.capacity = capacity;
        handleBySlot = new int[capacity];
        generationBySlot = new int[capacity];
        Arrays.fill(generationBySlot, 1);
        ipBySlot = new int[capacity];
        portBySlot = new int[capacity];
        weightBySlot = new int[capacity];
        macBySlot = new long[capacity];
        healthyBySlot = new boolean[capacity];
        checkPassingBySlot = new boolean[capacity];
        adminStateBySlot = new AdminState[capacity];
        activeFlowsBySlot = new int[capacity];
        newFlowsTotalBySlot = new long[capacity];
        eligibleHandles = new int[capacity];
    }

    /**
     * Slot index of a handle (also of a stale one).
     *
     * @param handle a handle returned by {@link #add}.
     * @return the slot index, 0..{@link #MAX_CAPACITY} - 1.
     */
    public static int slotOf(final int handle)
    {
        return handle & SLOT_MASK;
    }

    /**
     * Generation of a handle.
     *
     * @param handle a handle returned by {@link #add}.
     * @return the generation the handle was issued with.
     */
    public static int generationOf(final int handle)
    {
        return handle >>> SLOT_BITS;
    }

    /**
     * @return the number of slots.
     */
    public int capacity()
    {
        return capacity;
    }

    /**
     * @return the number of backends in the pool, eligible or not.
     */
    public int size()
    {
        return size;
    }

    /**
     * @return a number that changes whenever something that affects scheduling changes.
     */
    public long version()
    {
        return version;
    }

    /**
     * Adds a backend. It starts healthy, {@link AdminState#READY}, with an unknown MAC, so it takes
     * new flows only once its MAC is learned (the first ARP reply). Port 0 means "the service port".
     * <p>
     * Refused, returning {@link #NO_HANDLE}, when the pool is full or already holds a backend with
     * the same ip and port ({@link #find} tells the two cases apart). Out-of-range arguments are
     * programming errors and throw.
     *
     * @param ip     IPv4 address as a big-endian number.
     * @param port   0..65535; 0 means the same port as the service.
     * @param weight 0..{@link #MAX_WEIGHT}; 0 takes no new flows.
     * @return the handle of the new backend, or {@link #NO_HANDLE}.
     * @throws IllegalArgumentException if port or weight is out of range.
     */
    public int add(final int ip, final int port, final int weight)
    {
        checkPort(port);
        checkWeight(weight);
        if (find(ip, port) != NO_HANDLE)
        {
            return NO_HANDLE;
        }

        final int slot = firstFreeSlot();
        if (slot < 0)
        {
            return NO_HANDLE;
        }

        final int handle = (generationBySlot[slot] << SLOT_BITS) | slot;
        handleBySlot[slot] = handle;
        ipBySlot[slot] = ip;
        portBySlot[slot] = port;
        weightBySlot[slot] = weight;
        macBySlot[slot] = 0;
        healthyBySlot[slot] = true;
        checkPassingBySlot[slot] = true;
        adminStateBySlot[slot] = AdminState.READY;
        activeFlowsBySlot[slot] = 0;
        newFlowsTotalBySlot[slot] = 0;
        size++;
        changed();

        return handle;
    }

    /**
     * Removes a backend. Its handle becomes stale at once; flows still holding it must notice via
     * {@link #isLive(int)} or {@link #canCarryFlows(int)}.
     *
     * @param handle the backend.
     * @return true if it was live and is now removed.
     */
    public boolean remove(final int handle)
    {
        if (!isLive(handle))
        {
            return false;
        }

        final int slot = slotOf(handle);
        handleBySlot[slot] = 0;
        final int generation = generationBySlot[slot];
        generationBySlot[slot] = generation == MAX_GENERATION ? 1 : generation + 1;
        adminStateBySlot[slot] = null;
        activeFlowsBySlot[slot] = 0;
        size--;
        changed();

        return true;
    }

    /**
     * @param handle any int.
     * @return true if the handle names a backend currently in the pool.
     */
    public boolean isLive(final int handle)
    {
        final int slot = handle & SLOT_MASK;
        return handle > 0 && slot < capacity && handleBySlot[slot] == handle;
    }

    /**
     * Finds a backend by address. Linear in capacity: for the control path.
     *
     * @param ip   IPv4 address as a big-endian number.
     * @param port port as given to {@link #add}.
     * @return its handle, or {@link #NO_HANDLE}.
     */
    public int find(final int ip, final int port)
    {
        for (int slot = 0; slot < capacity; slot++)
        {
            final int handle = handleBySlot[slot];
            if (handle != 0 && ipBySlot[slot] == ip && portBySlot[slot] == port)
            {
                return handle;
            }
        }

        return NO_HANDLE;
    }

    /**
     * The live handle in a slot, for walking all backends (reporting, probing).
     *
     * @param slot 0..{@link #capacity()} - 1.
     * @return the handle, or {@link #NO_HANDLE} if the slot is free.
     */
    public int handleAt(final int slot)
    {
        final int handle = handleBySlot[slot];
        return handle == 0 ? NO_HANDLE : handle;
    }

    /**
     * @param handle the backend.
     * @param weight 0..{@link #MAX_WEIGHT}.
     * @return false if the handle is stale.
     * @throws IllegalArgumentException if weight is out of range.
     */
    public boolean setWeight(final int handle, final int weight)
    {
        checkWeight(weight);
        if (!isLive(handle))
        {
            return false;
        }

        final int slot = slotOf(handle);
        if (weightBySlot[slot] != weight)
        {
            weightBySlot[slot] = weight;
            changed();
        }

        return true;
    }

    /**
     * Records the outcome of liveness probing. Repeating the current state changes nothing.
     *
     * @param handle  the backend.
     * @param healthy true if it answers probes.
     * @return false if the handle is stale.
     */
    public boolean setHealthy(final int handle, final boolean healthy)
    {
        return setFlag(healthyBySlot, handle, healthy);
    }

    /**
     * Records the outcome of the service's TCP health check (a service without one leaves it
     * passing). A failing check stops new flows only: established flows stay, as the ARP probe
     * still finds the host, and the backend itself resets what its dead service cannot carry.
     *
     * @param handle  the backend.
     * @param passing true if its port answers the check.
     * @return false if the handle is stale.
     */
    public boolean setCheckPassing(final int handle, final boolean passing)
    {
        return setFlag(checkPassingBySlot, handle, passing);
    }

    /** Sets one per-slot flag that decides eligibility; a change rebuilds the eligible list. */
    private boolean setFlag(final boolean[] bySlot, final int handle, final boolean value)
    {
        if (!isLive(handle))
        {
            return false;
        }

        final int slot = slotOf(handle);
        if (bySlot[slot] != value)
        {
            bySlot[slot] = value;
            changed();
        }

        return true;
    }

    /**
     * @param handle the backend.
     * @return whether its service's TCP check passes (always, without a check).
     */
    public boolean isCheckPassing(final int handle)
    {
        return checkPassingBySlot[slotOf(handle)];
    }

    /**
     * @param handle the backend.
     * @param state  the operator's state.
     * @return false if the handle is stale.
     */
    public boolean setAdminState(final int handle, final AdminState state)
    {
        if (null == state)
        {
            throw new NullPointerException("state");
        }
        if (!isLive(handle))
        {
            return false;
        }

        final int slot = slotOf(handle);
        if (adminStateBySlot[slot] != state)
        {
            adminStateBySlot[slot] = state;
            changed();
        }

        return true;
    }

    /**
     * Records the backend's MAC address, learned from ARP.
     *
     * @param handle the backend.
     * @param mac    48-bit MAC in the low bits; 0 forgets it.
     * @return false if the handle is stale.
     * @throws IllegalArgumentException if mac has bits above bit 47.
     */
    public boolean setMac(final int handle, final long mac)
    {
        if ((mac & ~MAC_MASK) != 0)
        {
            throw new IllegalArgumentException("MAC must fit in 48 bits: 0x" + Long.toHexString(mac));
        }
        if (!isLive(handle))
        {
            return false;
        }

        final int slot = slotOf(handle);
        if (macBySlot[slot] != mac)
        {
            macBySlot[slot] = mac;
            changed();
        }

        return true;
    }

    /**
     * @param handle a live backend.
     * @return its IPv4 address as a big-endian number.
     */
    public int ip(final int handle)
    {
        return ipBySlot[slotOf(handle)];
    }

    /**
     * @param handle a live backend.
     * @return its port; 0 means the service port.
     */
    public int port(final int handle)
    {
        return portBySlot[slotOf(handle)];
    }

    /**
     * @param handle a live backend.
     * @return its weight.
     */
    public int weight(final int handle)
    {
        return weightBySlot[slotOf(handle)];
    }

    /**
     * @param handle a live backend.
     * @return its MAC, or 0 if not yet learned.
     */
    public long mac(final int handle)
    {
        return macBySlot[slotOf(handle)];
    }

    /**
     * @param handle a live backend.
     * @return true if it answers probes.
     */
    public boolean isHealthy(final int handle)
    {
        return healthyBySlot[slotOf(handle)];
    }

    /**
     * @param handle a live backend.
     * @return its admin state.
     */
    public AdminState adminState(final int handle)
    {
        return adminStateBySlot[slotOf(handle)];
    }

    /**
     * @param handle a live backend.
     * @return the number of flows currently assigned to it.
     */
    public int activeFlows(final int handle)
    {
        return activeFlowsBySlot[slotOf(handle)];
    }

    /**
     * @param handle a live backend.
     * @return the number of flows ever assigned to it since it was added.
     */
    public long newFlowsTotal(final int handle)
    {
        return newFlowsTotalBySlot[slotOf(handle)];
    }

    /**
     * Counts a new flow on the backend: active flows and the new-flow total both rise.
     *
     * @param handle the backend the flow was assigned to.
     * @return false (and nothing counted) if the handle is stale.
     */
    public boolean incrementActive(final int handle)
    {
        if (!isLive(handle))
        {
            return false;
        }

        final int slot = slotOf(handle);
        activeFlowsBySlot[slot]++;
        newFlowsTotalBySlot[slot]++;

        return true;
    }

    /**
     * Counts the end of a flow (FIN/RST or expiry). Never goes below 0. A stale handle is ignored,
     * so a flow of a removed backend cannot lower the count of the backend now in its slot.
     *
     * @param handle the backend the flow was assigned to.
     * @return false if the handle is stale.
     */
    public boolean decrementActive(final int handle)
    {
        if (!isLive(handle))
        {
            return false;
        }

        final int slot = slotOf(handle);
        if (activeFlowsBySlot[slot] > 0)
        {
            activeFlowsBySlot[slot]--;
        }

        return true;
    }

    /**
     * @param handle any int.
     * @return true if the backend is live, healthy, passes its TCP check (if any), is
     * {@link AdminState#READY}, has weight &gt; 0 and a known MAC.
     */
    public boolean canTakeNewFlows(final int handle)
    {
        return isLive(handle) && eligible(slotOf(handle));
    }

    /**
     * Whether established flows may still be sent to the backend: live, healthy and not
     * {@link AdminState#MAINT}. Drained and weight-0 backends keep their flows.
     *
     * @param handle any int.
     * @return true if packets of an established flow may go to it.
     */
    public boolean canCarryFlows(final int handle)
    {
        if (!isLive(handle))
        {
            return false;
        }

        final int slot = slotOf(handle);
        return healthyBySlot[slot] && adminStateBySlot[slot] != AdminState.MAINT;
    }

    /**
     * @return the number of backends that can take new flows.
     */
    public int eligibleCount()
    {
        return eligibleCount;
    }

    /**
     * @param index 0..{@link #eligibleCount()} - 1; the list is in slot order.
     * @return the handle of an eligible backend.
     */
    public int eligibleHandle(final int index)
    {
        return eligibleHandles[index];
    }

    private boolean eligible(final int slot)
    {
        return healthyBySlot[slot] &&
            checkPassingBySlot[slot] &&
            adminStateBySlot[slot] == AdminState.READY &&
            weightBySlot[slot] > 0 &&
            macBySlot[slot] != 0;
    }

    private void changed()
    {
        int count = 0;
        for (int slot = 0; slot < capacity; slot++)
        {
            final int handle = handleBySlot[slot];
            if (handle != 0 && eligible(slot))
            {
                eligibleHandles[count++] = handle;
            }
        }
        eligibleCount = count;
        version++;
    }

    private int firstFreeSlot()
    {
        if (size == capacity)
        {
            return -1;
        }

        for (int slot = 0; slot < capacity; slot++)
        {
            if (handleBySlot[slot] == 0)
            {
                return slot;
            }
        }

        return -1;
    }

    private static void checkPort(final int port)
    {
        if (port < 0 || port > 0xFFFF)
        {
            throw new IllegalArgumentException("port must be 0..65535: " + port);
        }
    }

    private static void checkWeight(final int weight)
    {
        if (weight < 0 || weight > MAX_WEIGHT)
        {
            throw new IllegalArgumentException("weight must be 0.." + MAX_WEIGHT + ": " + weight);
        }
    }
}
