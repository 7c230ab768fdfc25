# Greetings by language code.
module Hola
  GREETINGS = { "en" => "hello", "es" => "hola", "de" => "hallo" }.freeze

  # Returns the greeting for +lang+, falling back to English.
  def self.greet(name, lang = "en")
    "#{GREETINGS.fetch(lang, GREETINGS["en"])}, #{name}"
  end
end
