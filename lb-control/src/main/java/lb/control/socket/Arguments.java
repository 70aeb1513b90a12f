package lb.control.socket;

import java.util.List;
import java.util.function.Function;

/**
 * The words after a command's name. The dispatcher has already checked their count against the
 * command's usage, so a handler reads required arguments by position without checking.
 */
public final class Arguments
{
    private final List<String> words;

    Arguments(final List<String> words)
    {
        this.words = List.copyOf(words);
    }

    /** @return how many words were given. */
    public int size()
    {
        return words.size();
    }

    /**
     * @param index a position, 0 for the first word after the command name.
     * @return whether a word was given there (for optional arguments).
     */
    public boolean has(final int index)
    {
        return index < words.size();
    }

    /**
     * @param index a position, 0 for the first word after the command name.
     * @return the word.
     */
    public String get(final int index)
    {
        return words.get(index);
    }

    /**
     * Converts one word, turning the parser's complaint into a one-line error that names the argument.
     *
     * @param index  a position.
     * @param name   the argument's name as the usage writes it, for example {@code WEIGHT}.
     * @param parser converts the word; throws {@link IllegalArgumentException} saying what it expected.
     * @param <T>    the value's type.
     * @return the value.
     * @throws CommandException {@code invalid NAME: <what the parser said>}.
     */
    public <T> T parse(final int index, final String name, final Function<String, T> parser)
    {
        try
        {
            return parser.apply(words.get(index));
        }
        catch (final IllegalArgumentException ex)
        {
            throw new CommandException("invalid " + name + ": " + ex.getMessage());
        }
    }
}
