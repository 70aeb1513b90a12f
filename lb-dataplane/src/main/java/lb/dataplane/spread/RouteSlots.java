package lb.dataplane.spread;

import java.util.concurrent.atomic.AtomicReferenceArray;

/**
 * One worker's route services, by slot, and the hand-over by which the control thread adds one
 * while the worker runs. The control thread builds a {@link RouteForwarder} (its flow table is
 * megabytes: no worker should allocate it between packets), {@link #offer offers} it in a free slot
 * and then sends the worker a command naming the slot; the worker {@link #install installs} it from
 * its command loop. The command ring's release and acquire order the offer before the install, so
 * the worker sees the whole object. Only the worker writes {@link #active()}, which the packet path
 * reads: a fresh array on every change, so a loop over it never sees a half-made change.
 */
public final class RouteSlots
{
    /** Most route services one lb holds. */
    public static final int MAX_ROUTES = 16;

    private static final RouteForwarder[] NONE = new RouteForwarder[0];

    private final AtomicReferenceArray<RouteForwarder> offered = new AtomicReferenceArray<>(MAX_ROUTES);
    private final RouteForwarder[] bySlot = new RouteForwarder[MAX_ROUTES];
    private RouteForwarder[] active = NONE;

    /** @return slots holding the routes in order, installed at once (before the worker starts). */
    public static RouteSlots of(final RouteForwarder... routes)
    {
        if (routes.length > MAX_ROUTES)
        {
            throw new IllegalArgumentException(routes.length + " routes, at most " + MAX_ROUTES);
        }
        final RouteSlots slots = new RouteSlots();
        for (int slot = 0; slot < routes.length; slot++)
        {
            slots.offer(slot, routes[slot]);
            slots.install(slot);
        }
        return slots;
    }

    /** Control thread: leaves a route for the worker to install from the given slot. */
    public void offer(final int slot, final RouteForwarder route)
    {
        offered.set(slot, route);
    }

    /**
     * Worker thread: installs the route offered for the slot.
     *
     * @return it, or null when nothing was offered there or the slot is taken.
     */
    public RouteForwarder install(final int slot)
    {
        if (slot < 0 || slot >= MAX_ROUTES || bySlot[slot] != null)
        {
            return null;
        }
        final RouteForwarder route = offered.getAndSet(slot, null);
        if (route != null)
        {
            bySlot[slot] = route;
            rebuild();
        }
        return route;
    }

    /**
     * Worker thread: takes the route out of its slot; its flows end with it.
     *
     * @return it, or null when the slot was empty.
     */
    public RouteForwarder remove(final int slot)
    {
        if (slot < 0 || slot >= MAX_ROUTES || bySlot[slot] == null)
        {
            return null;
        }
        final RouteForwarder route = bySlot[slot];
        bySlot[slot] = null;
        rebuild();
        return route;
    }

    /** @return the route in the slot, or null. */
    public RouteForwarder at(final int slot)
    {
        return slot < 0 || slot >= MAX_ROUTES ? null : bySlot[slot];
    }

    /** @return the installed routes in slot order; the worker replaces, never changes, this array. */
    public RouteForwarder[] active()
    {
        return active;
    }

    private void rebuild()
    {
        int count = 0;
        for (final RouteForwarder route : bySlot)
        {
            count += route != null ? 1 : 0;
        }
        final RouteForwarder[] next = new RouteForwarder[count];
        int i = 0;
        for (final RouteForwarder route : bySlot)
        {
            if (route != null)
            {
                next[i++] = route;
            }
        }
        active = next;
    }
}
