Gem::Specification.new do |s|
  s.name        = "hola"
  s.version     = "0.1.0"
  s.summary     = "Greets in several languages"
  s.description = "A tiny local gem used by the dockopt corpus."
  s.authors     = ["dockopt corpus"]
  s.license     = "MIT"
  s.files       = ["lib/hola.rb", "bin/hola"]
  s.executables = ["hola"]
  s.required_ruby_version = ">= 2.7"
end
