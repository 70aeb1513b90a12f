package lb.dataplane.sched;

/**
 * The scheduling algorithms by the names users give them, each with a factory.
 */
public enum SchedulerKind
{
    /** Uniform random among eligible backends. */
    RANDOM("random")
    {
        public Scheduler create(final BackendPool pool)
        {
            return new RandomScheduler(pool);
        }
    },

    /** Round robin. */
    ROUND_ROBIN("rr")
    {
        public Scheduler create(final BackendPool pool)
        {
            return new RoundRobinScheduler(pool);
        }
    },

    /** Smooth weighted round robin. */
    WEIGHTED_ROUND_ROBIN("wrr")
    {
        public Scheduler create(final BackendPool pool)
        {
            return new WeightedRoundRobinScheduler(pool);
        }
    },

    /** Fewest active flows. */
    LEAST_CONNECTIONS("lc")
    {
        public Scheduler create(final BackendPool pool)
        {
            return new LeastConnectionsScheduler(pool);
        }
    },

    /** Fewest active flows per unit of weight. */
    WEIGHTED_LEAST_CONNECTIONS("wlc")
    {
        public Scheduler create(final BackendPool pool)
        {
            return new LeastConnectionsScheduler(pool, true);
        }
    },

    /** Hash of the client IP. */
    SOURCE_HASH("sh")
    {
        public Scheduler create(final BackendPool pool)
        {
            return new SourceHashScheduler(pool);
        }
    },

    /** Maglev consistent hashing of the flow hash. */
    MAGLEV("maglev")
    {
        public Scheduler create(final BackendPool pool)
        {
            return new MaglevScheduler(pool);
        }
    };

    private static final SchedulerKind[] KINDS = values();

    private final String userName;

    SchedulerKind(final String userName)
    {
        this.userName = userName;
    }

    /**
     * @return the name users write, e.g. "wrr".
     */
    public String userName()
    {
        return userName;
    }

    /**
     * True when every lb instance with the same backends gives a flow the same backend, whatever
     * order the backends were added in and whatever flows came before: only Maglev (its table
     * depends on the set of backends alone). Source hashing indexes the pool's order, round
     * robin and least connections depend on history.
     *
     * @return whether a flow lost by one instance can be re-created by another.
     */
    public boolean consistent()
    {
        return this == MAGLEV;
    }

    /**
     * Creates a scheduler of this kind with default parameters.
     *
     * @param pool the backends it picks from.
     * @return a new scheduler.
     */
    public abstract Scheduler create(BackendPool pool);

    /**
     * Looks a kind up by its user-facing name, ignoring case and surrounding blanks.
     *
     * @param name e.g. "maglev".
     * @return the kind.
     * @throws IllegalArgumentException naming the valid names if there is no such kind.
     */
    public static SchedulerKind parse(final String name)
    {
        if (null != name)
        {
            final String wanted = name.trim();
            for (final SchedulerKind kind : KINDS)
            {
                if (kind.userName.equalsIgnoreCase(wanted))
                {
                    return kind;
                }
            }
        }

        throw new IllegalArgumentException("unknown scheduler '" + name + "'; valid: " + validNames());
    }

    /**
     * @return the user-facing names, comma separated, in declaration order.
     */
    public static String validNames()
    {
        final StringBuilder names = new StringBuilder();
        for (final SchedulerKind kind : KINDS)
        {
            if (names.length() > 0)
            {
                names.append(", ");
            }
            names.append(kind.userName);
        }
        return names.toString();
    }

    /**
     * @return the user-facing name.
     */
    public String toString()
    {
        return userName;
    }
}
